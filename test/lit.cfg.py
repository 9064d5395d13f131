# lit configuration for tsmap's test suite. Run through ctest (test name: lit) or
#   python3 /usr/lib/llvm-19/build/utils/lit/lit.py -sv build/test
import os
import lit.formats

config.name = "tsmap"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".c", ".cpp", ".test"]
config.excludes = ["Inputs", "runtime", "CMakeLists.txt"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.tsmap_obj_root, "test")

tool_dir = config.llvm_tools_dir
config.environment["PATH"] = os.pathsep.join([tool_dir, config.environment.get("PATH", "")])

includes = " ".join("--include " + p for p in config.tsmap_include_dirs)
runner = os.path.join(config.test_source_root, "check_tsmap_tidy.py")
config.substitutions.append(("%check_tsmap_tidy",
    "%s %s --clang-tidy %s --plugin %s --filecheck %s %s" % (
        config.python_executable, runner, config.clang_tidy, config.tsmap_plugin,
        os.path.join(tool_dir, "FileCheck"), includes)))
config.substitutions.append(("%clang_tidy_plugin", "%s --load %s" % (config.clang_tidy, config.tsmap_plugin)))
config.substitutions.append(("%tsmap_plugin", config.tsmap_plugin))
config.substitutions.append(("%clang_tidy", config.clang_tidy))
config.substitutions.append(("%clangd", config.clangd))
config.substitutions.append(("%clang", config.clang))
config.substitutions.append(("%python", config.python_executable))
config.substitutions.append(("%tsmap_src", config.tsmap_src_root))
config.substitutions.append(("%tsmap_obj_root", config.tsmap_obj_root))
config.substitutions.append(("%tsmap_includes", " ".join("-I" + p for p in config.tsmap_include_dirs)))

# Parts of the suite that need optional tools say so with REQUIRES.
import shutil
for tool, feature in (("gcc", "gcc"), ("g++", "gxx"), ("node", "node")):
    if shutil.which(tool):
        config.available_features.add(feature)

# Each registered check is a feature (e.g. REQUIRES: tsmap-reentrant-callback), so a
# test of the example project can name the checks it expects; check_registry.py and
# list-checks.test make sure that what is registered has docs and tests.
import subprocess
try:
    listed = subprocess.run([config.clang_tidy, "--load", config.tsmap_plugin,
                             "--checks=-*,tsmap-*", "--list-checks"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True, timeout=120).stdout
except (OSError, subprocess.SubprocessError):
    listed = ""
for line in listed.splitlines():
    name = line.strip()
    if name.startswith("tsmap-"):
        config.available_features.add(name)
        config.available_features.add("tsmap-any-check")
