#!/usr/bin/env python3
"""check_layers.py: the include and link arrows between folders.

Every source folder builds one library with loft_library(NAME DEPS ...) or
programs with add_executable + target_link_libraries; those CMake lines are
the declared arrows. This script fails when
  1. a file includes a project header that lives outside its own folder and
     outside the folders its library may use (DEPS, transitively), or
  2. a folder's library or program links the library of a program folder
     (one that builds an executable) other than its own: one daemon never
     uses another daemon's code; shared code lives in a library folder.
tests/ is exempt (tests link everything). Usage: check_layers.py [SRCDIR]
"""
import os
import re
import sys

SOURCE_ROOTS = ("lib", "master", "auth", "imap-login", "pop3-login", "mailstore", "smtpd")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
LIBRARY = re.compile(r"loft_library\(\s*(\w+)([^)]*)\)", re.S)
EXECUTABLE = re.compile(r"add_executable\(\s*([\w-]+)")
LINK = re.compile(r"target_link_libraries\(\s*([\w-]+)\s+(?:PRIVATE|PUBLIC)([^)]*)\)", re.S)


def folders(src):
    """Every folder under SOURCE_ROOTS holding C sources -> its files."""
    out = {}
    for root in SOURCE_ROOTS:
        for d, _, files in os.walk(os.path.join(src, root)):
            cfiles = [f for f in files if f.endswith((".c", ".h"))]
            if cfiles:
                out[os.path.relpath(d, src)] = cfiles
    return out


def cmake_facts(src, dirs):
    """lib name -> folder, folder -> declared deps, program folders."""
    lib_dir, deps, programs = {}, {}, set()
    for d in dirs:
        path = os.path.join(src, d, "CMakeLists.txt")
        if not os.path.exists(path):
            continue
        text = re.sub(r"#.*", "", open(path).read())
        for name, rest in LIBRARY.findall(text):
            lib_dir[name] = d
            m = re.search(r"DEPS(.*?)(?:EXCLUDE|$)", rest, re.S)
            deps.setdefault(d, set()).update(m.group(1).split() if m else [])
        for _, libs in LINK.findall(text):
            deps.setdefault(d, set()).update(libs.split())
        if EXECUTABLE.search(text):
            programs.add(d)
    return lib_dir, deps, programs


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    dirs = folders(src)
    lib_dir, deps, programs = cmake_facts(src, dirs)
    header_dir = {}
    for d, files in dirs.items():
        for f in files:
            if f.endswith(".h"):
                header_dir.setdefault(f, set()).add(d)

    def reach(d, seen=None):
        seen = set() if seen is None else seen
        for lib in deps.get(d, ()):
            t = lib_dir.get(lib)
            if t and t not in seen:
                seen.add(t)
                reach(t, seen)
        return seen

    errors = []
    for d in sorted(dirs):
        allowed = reach(d) | {d}
        for lib in sorted(deps.get(d, ())):
            t = lib_dir.get(lib)
            if t and t != d and t in programs:
                errors.append("%s links %s, the library of program folder %s" % (d, lib, t))
        for f in sorted(dirs[d]):
            text = open(os.path.join(src, d, f), errors="replace").read()
            for inc in INCLUDE.findall(text):
                where = header_dir.get(os.path.basename(inc))
                if where is None:
                    errors.append("%s/%s includes %s, which is no project header" % (d, f, inc))
                elif not where & allowed:
                    errors.append("%s/%s includes %s from %s, not among its deps (%s)"
                                  % (d, f, inc, ", ".join(sorted(where)),
                                     ", ".join(sorted(allowed - {d})) or "none"))
    for e in errors:
        print("layers: " + e)
    print("layers: %d folders, %d program folders, %d errors" % (len(dirs), len(programs), len(errors)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
