"""edit.py FILE: moves redundant.c's code down (a new function with a new finding above
it, the old body re-indented by one more space). --duplicate: repeats the old finding's
line inside find_limit instead."""
import sys

path = sys.argv[-1]
text = open(path).read()
if "--duplicate" in sys.argv:
    text = text.replace("   return 0;\n", "   if (limit == limit)\n     return x + 1;\n   return 0;\n", 1)
else:
    new = ("/* Added later. */\n"
           "int fresh(int y) {\n"
           "  int a = y;\n"
           "  return a - 1 == a - 1;\n"
           "}\n\n")
    lines = text.split("\n")
    text = lines[0] + "\n" + new + "\n".join(" " + l if l.startswith(" ") else l
                                             for l in lines[1:])
open(path, "w").write(text)
