"""The course's grader: instructors' tools, never imported by a notebook.

- :mod:`course.grading.command`: ``python -m course.grading ASSIGNMENT`` (``make autograde``);
- :mod:`course.grading.runner`: one grading run, every submission in its own scratch course;
- :mod:`course.grading.sandbox`: the kernel's sandbox (bubblewrap, limits);
- :mod:`course.grading.scoring`: scores decided outside the learner's kernel, from observations;
- :mod:`course.grading.integrity`: checks of submissions and the integrity report.

It imports nbgrader and the Jupyter stack, never torch; learner modules import none of it.
"""
