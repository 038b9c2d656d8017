"""``python -m course.grading``: see :mod:`course.grading.command`."""

from course.grading.command import main

raise SystemExit(main())
