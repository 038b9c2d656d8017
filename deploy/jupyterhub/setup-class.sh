#!/usr/bin/env bash
# Prepares one Linux server for the class hub (run as root; safe to run again):
#   - the Unix group of the students,
#   - nbgrader's exchange folder, with permissions that keep students apart,
#   - home folders that only their owner can open.
# Usage: setup-class.sh INSTRUCTOR [STUDENTS_GROUP] [EXCHANGE] [COURSE_ID]
set -euo pipefail
instructor=${1:?usage: setup-class.sh INSTRUCTOR [STUDENTS_GROUP] [EXCHANGE] [COURSE_ID]}
group=${2:-genai-students}
exchange=${3:-/srv/nbgrader/exchange}
course=${4:-genai-llm-fm}
[ "$(id -u)" = 0 ] || { echo "setup-class.sh: run as root" >&2; exit 1; }
id "$instructor" >/dev/null || { echo "setup-class.sh: no account $instructor (adduser $instructor)" >&2; exit 1; }
getent group "$group" >/dev/null || groupadd "$group"
igroup=$(id -gn "$instructor")

# The exchange root is like /tmp: anyone may create a folder in it, nobody may rename or
# delete someone else's (sticky bit). nbgrader insists that it is writable by everyone.
install -d -m 1777 -o root -g root "$exchange"
# The course's folders belong to the instructor (nbgrader checks that they own them):
#   outbound  released assignments: everyone may read,
#   inbound   submissions: everyone may add, nobody but the instructor may list (so a student
#             cannot find another's submission, whose folder name ends in a random string),
#             and the sticky bit stops a student from renaming or deleting another's;
#   feedback  released feedback: nobody but the instructor may list; a student finds their
#             own by a hash of a secret that only their submission and their home folder hold.
install -d -m 0755 -o "$instructor" -g "$igroup" "$exchange/$course" "$exchange/$course/outbound"
install -d -m 3733 -o "$instructor" -g "$igroup" "$exchange/$course/inbound"
install -d -m 0711 -o "$instructor" -g "$igroup" "$exchange/$course/feedback"

# Fetched assignments, feedback and nbgrader's cache of submissions live in home folders:
# only their owner may open them (Debian's adduser does this already; useradd may not).
members=$(getent group "$group" | cut -d: -f4 | tr ',' ' ')
for user in "$instructor" $members $(getent passwd | awk -F: -v g="$(getent group "$group" | cut -d: -f3)" '$4 == g {print $1}'); do
  home=$(getent passwd "$user" | cut -d: -f6)
  if [ -d "$home" ] && [ "$(stat -c %a "$home")" != 700 ]; then
    echo "setup-class.sh: $home was $(stat -c %a "$home"), now 700"
    chmod 700 "$home"
  fi
done
echo "setup-class.sh: exchange $exchange/$course ready for $instructor and group $group"
