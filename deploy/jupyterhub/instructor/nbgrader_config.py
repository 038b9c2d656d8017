"""nbgrader settings of the instructor's server on the class hub (found through
JUPYTER_CONFIG_PATH, which the hub sets): the course folder in the instructor's home
(COURSE_DIR) with its own nbgrader_config.py, so the formgrader and `nbgrader` in a terminal
agree wherever they are started."""

import os

c = get_config()  # noqa: F821
load_subconfig(os.path.join(os.environ["COURSE_DIR"], "nbgrader_config.py"))  # noqa: F821
