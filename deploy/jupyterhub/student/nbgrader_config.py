"""nbgrader settings of a student's server on the class hub (found through JUPYTER_CONFIG_PATH,
which the hub sets). The course's own settings (course id, exchange, time limits) come from the
course folder the hub runs from; a student's nbgrader then works in the student's home folder."""

import os

c = get_config()  # noqa: F821
load_subconfig(os.path.join(os.environ["COURSE_REPO"], "nbgrader_config.py"))  # noqa: F821
c.CourseDirectory.root = os.path.expanduser("~")
