# SPDX-License-Identifier: Apache-2.0
"""The repository explains itself and stands alone (no QEMU here): README's layout table matches
the tree, documents cite only files in the repository and their links resolve, and nothing speaks
of issue numbers (a reader of the code has no issue tracker)."""
import os
import re
import subprocess

from conftest import TOP


def tracked():
    out = subprocess.run(["git", "ls-files"], capture_output=True, text=True, cwd=TOP, check=True)
    return [f for f in out.stdout.split() if os.path.isfile(os.path.join(TOP, f))]


def text_of(path):
    try:
        with open(os.path.join(TOP, path), encoding="utf-8") as f:
            return f.read()
    except UnicodeDecodeError:
        return ""


def layout_rows():
    readme = text_of("README.md")
    table = readme.split("## Layout", 1)[1].split("\n## ", 1)[0]
    paths = []
    for line in table.splitlines():
        if line.startswith("| `"):
            paths += re.findall(r"`([^`]+)`", line.split("|")[1])
    return paths


# The folders the layout table must name: each top-level folder (.ci included, build and .git
# not), and each folder one level into hyp, hyp/arch, guest, tests, bench, tools and platform.
DEEPER = ["hyp", "hyp/arch", "guest", "tests", "bench", "tools", "platform"]


def folders():
    files = tracked()
    dirs = set()
    for f in files:
        parts = f.split("/")
        if len(parts) > 1:
            dirs.add(parts[0])
        for base in DEEPER:
            depth = base.count("/") + 1
            if f.startswith(base + "/") and len(parts) > depth + 1:
                dirs.add("/".join(parts[:depth + 1]))
    return dirs - set(DEEPER) - {"hyp/arch"}


def test_layout_table_matches_the_tree():
    listed = layout_rows()
    for p in listed:
        assert os.path.isdir(os.path.join(TOP, p)), "README lists %s, which is not a folder" % p
    dupes = {p for p in listed if listed.count(p) > 1}
    assert not dupes, "README lists twice: %s" % sorted(dupes)
    missing = sorted(folders() - set(listed))
    assert not missing, "README's layout table leaves out: %s" % missing


def test_cites_only_what_is_in_the_repository():
    bad = [f for f in tracked() if f != "tests/system/test_repository.py" and re.search(
        r"DESIGN\.md|CONVENTIONS\.md|\.\./shared/", text_of(f))]
    assert not bad, "these cite files outside the repository: %s" % bad


def test_no_issue_numbers():
    rx = re.compile(r"\bissues? #?\d+\b|\bissue-\d+\b", re.IGNORECASE)
    bad = ["%s: %s" % (f, m.group(0)) for f in tracked()
           if f != "tests/system/test_repository.py" for m in [rx.search(text_of(f))] if m]
    assert not bad, bad


def slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    s = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return s.replace(" ", "-")


def test_document_links_resolve():
    docs = ["README.md"] + [f for f in tracked() if f.startswith("docs/") and f.endswith(".md")]
    broken = []
    for doc in docs:
        text = text_of(doc)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue                      # a web address
            path, _, anchor = target.partition("#")
            full = os.path.normpath(os.path.join(TOP, os.path.dirname(doc), path)) if path \
                else os.path.join(TOP, doc)
            if not os.path.exists(full):
                broken.append("%s -> %s" % (doc, target))
                continue
            if anchor and full.endswith(".md"):
                with open(full, encoding="utf-8") as f:
                    heads = {slug(h) for h in re.findall(r"^#+ (.*)$", f.read(), re.M)}
                if anchor not in heads:
                    broken.append("%s -> %s (no such heading)" % (doc, target))
    assert not broken, broken


def test_one_list_of_pure_folders():
    """mk/pure.mk is the one list of pure folders; CONTRIBUTING.md names the same ones, and every
    listed folder exists."""
    mk = re.search(r"^PURE_DIRS := (.*)$", text_of("mk/pure.mk"), re.M).group(1).split()
    for d in mk:
        assert os.path.isdir(os.path.join(TOP, d)), d
    contrib = text_of("CONTRIBUTING.md")
    para = contrib[contrib.index("listed once in `mk/pure.mk`"):]
    para = para[:para.index("\n- ")]
    named = re.findall(r"`(hyp/[a-z0-9_]+)`", para)
    assert named == mk, "CONTRIBUTING.md names %s, mk/pure.mk lists %s" % (named, mk)


def test_arch_and_drivers_do_not_include_the_core():
    """hyp/arch and hyp/drivers sit below the core: they include hyp/lib, types.h, their own
    headers and the narrow interfaces the core implements for them (arch/aarch64/cpu.h), never a
    core/ header (CONTRIBUTING.md, "Layers")."""
    rx = re.compile(r'^\s*#\s*include\s*[<"]core/', re.M)
    bad = [f for f in tracked() if f.startswith(("hyp/arch/", "hyp/drivers/"))
           and rx.search(text_of(f))]
    assert not bad, "these include a core/ header: %s" % bad


SPDX = "SPDX-License-Identifier: Apache-2.0"   # LICENSE is the Apache License 2.0
SOURCE_SUFFIXES = (".c", ".h", ".S", ".lds", ".dts", ".dtsi", ".py", ".sh", ".mk")


def test_every_source_file_says_its_license():
    """Every tracked source file (C, assembly, linker scripts, device trees, Python, shell,
    Makefiles, and any script with a #! line) names its license on its first line, or on the line
    after its #! line."""
    bad = []
    for f in tracked():
        text = text_of(f)
        if not (f.endswith(SOURCE_SUFFIXES) or os.path.basename(f) == "Makefile"
                or text.startswith("#!")):
            continue
        lines = text.split("\n")
        first = lines[1] if lines[0].startswith("#!") and len(lines) > 1 else lines[0]
        if SPDX not in first:
            bad.append(f)
    assert not bad, "no '%s' on the first line: %s" % (SPDX, bad)
