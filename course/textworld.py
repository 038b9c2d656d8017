"""A small text world, generated from a seed, for the course's generative base model.

The world has fictional people, each living in one of :data:`TOWNS` and working in one of
:data:`JOBS`, and five word games played on English words. :func:`pretraining_text` writes it
out as the documents a base model reads: facts stated in several ways, questions with their
answers, passages that state a fact about a new person and then ask about it, lists of word-game pairs
(with or without an instruction above them) and lines with a task prefix (``reverse: cat = tac``).

What the pretraining text never holds, on purpose:

- anything about :func:`unseen_people` (the entities of the hallucination experiment);
- a word game played on a word of :func:`eval_words` (every word-game measurement uses them);
- a dialogue between a user and an assistant (the format of instruction tuning).

Everything is deterministic: the same seed gives the same world and the same text.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

SEED = 0
TOWNS = ("Aldmoor", "Brenvik", "Calder", "Dunlow", "Eskar", "Fennick", "Gorlen", "Halvast",
         "Istra", "Jorvel", "Kelmar", "Lunsby", "Morrin", "Norvale", "Ostrik", "Pellan")
JOBS = ("baker", "farmer", "painter", "sailor", "doctor", "teacher", "potter", "weaver",
        "singer", "miner", "tailor", "hunter")
_SYLLABLES = ("ka", "ri", "lo", "mek", "ta", "vin", "so", "dar", "el", "mu", "ni", "bo",
              "ser", "ul", "fa", "go", "pe", "tor", "wen", "zi", "ha", "jol", "ru", "ke")
N_KNOWN, N_UNSEEN = 150, 60
_TEMPLATE_WORDS = ("lives in", "is a who", "works as a", "Q Where does live A What is the job of",
                   "reverse upper first last double town job")

#: The word games: name -> the function that plays it.
GAMES = {
    "reverse": lambda w: w[::-1],
    "upper": lambda w: w.upper(),
    "first": lambda w: w[0],
    "last": lambda w: w[-1],
    "double": lambda w: w + w,
}
#: Instructions that head a list of word-game pairs in the pretraining text.
INSTRUCTIONS = {
    "reverse": ("Write each word backwards.", "Reverse the words."),
    "upper": ("Write each word in capitals.", "Make the words upper case."),
    "first": ("Give the first letter of each word.", "First letters:"),
    "last": ("Give the last letter of each word.", "Last letters:"),
    "double": ("Write each word twice.", "Double the words."),
}
#: Every character the base model can read or write.
CHARS = "\n !',.:=>?-" + "abcdefghijklmnopqrstuvwxyz" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class Person:
    """One person of the world: a full name, a town and a job."""

    name: str
    town: str
    job: str

    def fact(self) -> str:
        """The person's home, as one sentence (the form a retrieval store keeps)."""
        return f"{self.name} lives in {self.town}."


def _name(rng: random.Random) -> str:
    first = "".join(rng.choice(_SYLLABLES) for _ in range(2)).capitalize()
    last = "".join(rng.choice(_SYLLABLES) for _ in range(rng.choice((2, 3)))).capitalize()
    return f"{first} {last}"


@lru_cache(maxsize=2)
def _people(seed: int) -> tuple[tuple[Person, ...], tuple[Person, ...]]:
    rng = random.Random(seed)
    names: dict[str, None] = {}
    while len(names) < N_KNOWN + N_UNSEEN:
        name = _name(rng)
        if not any(n.startswith(name) or name.startswith(n) for n in names):  # no name inside another
            names[name] = None
    people = [Person(n, rng.choice(TOWNS), rng.choice(JOBS)) for n in names]
    return tuple(people[:N_KNOWN]), tuple(people[N_KNOWN:])


def known_people(seed: int = SEED) -> list[Person]:
    """The people whose facts are in the pretraining text."""
    return list(_people(seed)[0])


def unseen_people(seed: int = SEED) -> list[Person]:
    """People of the same world who never appear in the pretraining text."""
    return list(_people(seed)[1])


@lru_cache(maxsize=1)
def _words() -> tuple[tuple[str, ...], tuple[str, ...]]:
    from course import corpora

    pool = [w for w in corpora.words("en", 6000) if 3 <= len(w) <= 6 and w.isascii()]
    # words the documents' own sentences use (jobs, instructions) are no test of a word game
    fixed = {w.lower() for text in (*JOBS, *(i for pair in INSTRUCTIONS.values() for i in pair), *_TEMPLATE_WORDS)
             for w in text.replace(".", " ").replace(":", " ").split()}
    pool = [w for w in pool if w not in fixed]
    return tuple(w for i, w in enumerate(pool) if i % 5), tuple(w for i, w in enumerate(pool) if not i % 5)


def train_words() -> list[str]:
    """English words (3 to 6 letters) that the word games of the pretraining text use."""
    return list(_words()[0])


def eval_words() -> list[str]:
    """English words (3 to 6 letters) that the pretraining text never uses: every fifth of the list."""
    return list(_words()[1])


def new_people(n: int, seed: int) -> list[Person]:
    """``n`` more people the model was never told about, for tuning it to admit what it does not know.

    Their names are drawn as the pretraining text draws the one-off people of its passages (a fact stated,
    then asked about), so by chance a name may match one of those; such a person's fact stood beside its
    question once, it was never a fact to remember. None is a :func:`known_people` or :func:`unseen_people`
    name, nor starts like one."""
    rng = random.Random(f"new people {seed}")
    known, unseen = _people(SEED)
    taken = {p.name for p in known + unseen}
    people: list[Person] = []
    while len(people) < n:
        people.append(_fresh_person(rng, taken))
        taken.add(people[-1].name)
    return people


def _fact_sentence(p: Person, rng: random.Random) -> str:
    return rng.choice((
        f"{p.name} lives in {p.town}.",
        f"{p.name} is a {p.job}.",
        f"{p.name} is a {p.job} who lives in {p.town}.",
        f"In {p.town} lives {p.name}, a {p.job}.",
        f"{p.name} works as a {p.job} in {p.town}.",
    ))


def question(p: Person, about: str = "town") -> str:
    """A question about a person, in the pretraining text's form, up to and including ``A:``."""
    if about == "town":
        return f"Q: Where does {p.name} live?\nA:"
    if about == "job":
        return f"Q: What is the job of {p.name}?\nA:"
    raise ValueError(f"about must be 'town' or 'job', got {about!r}")


def _fresh_person(rng: random.Random, taken: set[str]) -> Person:
    """A new person, whose name neither is nor starts like (one word longer) a name in ``taken``."""
    while True:
        name = _name(rng)
        if not any(t.startswith(name) or name.startswith(t) for t in taken):
            return Person(name, rng.choice(TOWNS), rng.choice(JOBS))


def _document(rng: random.Random, known: list[Person], taken: set[str], words: list[str]) -> str:
    kind = rng.random()
    if kind < 0.25:  # facts about known people
        return " ".join(_fact_sentence(rng.choice(known), rng) for _ in range(rng.randint(1, 4)))
    if kind < 0.40:  # questions about known people, with their answers
        lines = []
        for _ in range(rng.randint(1, 3)):
            p, about = rng.choice(known), rng.choice(("town", "town", "job"))
            lines.append(f"{question(p, about)} {p.town if about == 'town' else p.job}")
        return "\n".join(lines)
    if kind < 0.65:  # a fact about a new person, then a question it answers
        p = _fresh_person(rng, taken)
        about = rng.choice(("town", "town", "job"))
        context = _fact_sentence(p, rng) if rng.random() < 0.5 else p.fact() if about == "town" else f"{p.name} is a {p.job}."
        if about == "town" and p.town not in context or about == "job" and p.job not in context:
            context = p.fact() if about == "town" else f"{p.name} is a {p.job}."
        return f"{context}\n{question(p, about)} {p.town if about == 'town' else p.job}"
    game = rng.choice(tuple(GAMES))
    if kind < 0.90:  # a list of word-game pairs, with or without an instruction above it
        pairs = [f"{w} -> {GAMES[game](w)}" for w in rng.sample(words, rng.randint(2, 6))]
        head = [rng.choice(INSTRUCTIONS[game])] if rng.random() < 0.5 else []
        return "\n".join(head + pairs)
    lines = []  # lines with a task prefix, tasks mixed
    for _ in range(rng.randint(2, 5)):
        task = rng.choice((*GAMES, "town", "job"))
        if task in GAMES:
            w = rng.choice(words)
            lines.append(f"{task}: {w} = {GAMES[task](w)}")
        else:
            p = rng.choice(known)
            lines.append(f"{task}: {p.name} = {p.town if task == 'town' else p.job}")
    return "\n".join(lines)


def pretraining_text(n_chars: int, seed: int = SEED) -> str:
    """About ``n_chars`` characters of the world's documents, each ended by an empty line."""
    rng = random.Random(seed + 1)
    known, unseen = _people(SEED)
    taken = {p.name for p in known + unseen}
    words = train_words()
    docs: list[str] = []
    size = 0
    while size < n_chars:
        doc = _document(rng, list(known), taken, words) + "\n\n"
        docs.append(doc)
        size += len(doc)
    return "".join(docs)

