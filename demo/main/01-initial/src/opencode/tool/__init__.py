from .bash import BashTool
from .read import ReadTool

TOOLS = {"bash": BashTool, "read": ReadTool}
