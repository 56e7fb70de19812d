#!/usr/bin/env python3
"""Regenerates Sources/CLazyCrypto/stubs.c: one stub per OpenSSL libcrypto function happy calls.

Usage (from anywhere; no build needed):
    scripts/gen-lazy-crypto.py            rewrite Sources/CLazyCrypto/stubs.c
    scripts/gen-lazy-crypto.py --check    regenerate into a temporary file and exit 1, showing the difference, when
                                          the committed stubs.c is not what this script writes (`make lint` runs it)
    scripts/gen-lazy-crypto.py --check FILE   the same for another copy of stubs.c (the tests use it)
Run it whenever the Swift code starts or stops calling an OpenSSL function, or Sources/COpenSSL/shim.h changes.
Needs clang (the Swift toolchain's), OpenSSL's headers (libssl-dev), libcrypto.so.3 (libssl3) and nm (binutils).

Each stub has the function's own name and prototype (taken from OpenSSL's headers through clang's JSON AST) and calls
the function that `LazyCrypto.load()` (loader.c) resolved from libcrypto.so.3; a stub called before load() aborts.
So `happy` does not load libcrypto at start-up — `happy auth status` never touches it — and only certificate logins
pay for it.

Which functions, exactly and without building: every identifier in a Swift file of Sources/ that imports COpenSSL,
followed through the bodies of the inline functions it names (shim.h's happy_* helpers and OpenSSL's own inline
functions, as clang expanded their macros), kept when libcrypto.so.3 exports it. That is a superset of what the
compiled objects call (a name in a comment gets a stub too, which costs nothing); a function the Swift code calls is
never left out, because the compiler can only call what it names or what an inline body it names calls."""
import difflib, json, os, re, subprocess, sys, tempfile

caller = os.getcwd()
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.chdir(root)
TARGET = "Sources/CLazyCrypto/stubs.c"
arguments = sys.argv[1:]
check = arguments[:1] == ["--check"]
if (arguments and not check) or len(arguments) > 2:
    sys.exit("usage: scripts/gen-lazy-crypto.py [--check [stubs.c]]")
compared = os.path.abspath(os.path.join(caller, arguments[1])) if len(arguments) == 2 else TARGET

libcrypto = subprocess.run(["sh", "-c", "ldconfig -p | awk '$1 == \"libcrypto.so.3\" { print $NF; exit }'"],
                           capture_output=True, text=True, check=True).stdout.strip()
if not libcrypto:
    sys.exit("gen-lazy-crypto: libcrypto.so.3 not found (install libssl3)")
exported = set()
for line in subprocess.run(["nm", "-D", "--defined-only", "--format=posix", libcrypto], capture_output=True,
                           text=True, check=True).stdout.split("\n"):
    fields = line.split()
    if len(fields) >= 2 and fields[1] in ("T", "W"):
        exported.add(fields[0].split("@")[0])

# The identifiers of the Swift code that can call OpenSSL.
named = set()
for directory, _, files in sorted(os.walk("Sources")):
    for name in sorted(files):
        if name.endswith(".swift"):
            with open(os.path.join(directory, name), encoding="utf-8") as source:
                text = source.read()
            if re.search(r"^\s*(?:\w+\s+)*import\s+COpenSSL\b", text, re.MULTILINE):
                named |= set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))

ast = json.loads(subprocess.run(["clang", "-x", "c", "-fsyntax-only", "-Xclang", "-ast-dump=json",
                                 "Sources/COpenSSL/shim.h"], capture_output=True, text=True, check=True).stdout)
declared, bodies = {}, {}
for decl in ast["inner"]:
    if decl.get("kind") == "FunctionDecl" and "name" in decl:
        declared.setdefault(decl["name"], decl)
        if any(part.get("kind") == "CompoundStmt" for part in decl.get("inner", [])):
            bodies[decl["name"]] = decl


def callees(node):
    """The functions a body refers to (calls, or takes the address of, as `sk_X509_pop_free(sk, X509_free)` does)."""
    found = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            referenced = item.get("referencedDecl")
            if referenced and referenced.get("kind") == "FunctionDecl":
                found.add(referenced["name"])
            stack.extend(item.get("inner", []))
        elif isinstance(item, list):
            stack.extend(item)
    return found


# Follow inline bodies from the names the Swift code uses.
reached, pending = set(), [name for name in named if name in declared]
while pending:
    name = pending.pop()
    if name in reached:
        continue
    reached.add(name)
    if name in bodies:
        pending.extend(callees(bodies[name]) - reached)
wanted = sorted(name for name in reached if name in exported and name not in bodies)


def declarator(qual, name):
    """A parameter declaration from clang's type spelling: `void (*)(void *)` -> `void (*name)(void *)`."""
    if "(*)" in qual:
        return qual.replace("(*)", f"(*{name})", 1)
    if "[" in qual:
        return qual.replace(" [", f" {name}[", 1)
    return f"{qual}{name}" if qual.endswith("*") else f"{qual} {name}"


def stub(decl):
    qual = decl["type"]["qualType"]
    if decl.get("variadic") or qual.endswith("...)"):
        sys.exit(f"gen-lazy-crypto: {decl['name']} is variadic; a stub cannot forward it")
    result = qual[:qual.index("(")].rstrip()
    if "(*" in result:
        sys.exit(f"gen-lazy-crypto: {decl['name']} returns a function pointer; not supported")
    params = [p for p in decl.get("inner", []) if p.get("kind") == "ParmVarDecl"]
    names = [f"a{i}" for i in range(len(params))]
    formal = ", ".join(declarator(p["type"]["qualType"], n) for p, n in zip(params, names)) or "void"
    call = f"HAPPY_LAZY({decl['name']})({', '.join(names)})"
    body = f"{call};" if result == "void" else f"return {call};"
    space = "" if result.endswith("*") else " "
    return f"{result}{space}{decl['name']}({formal}) {{ {body} }}"


lines = [
    "/* Generated by scripts/gen-lazy-crypto.py: do not edit. One stub per libcrypto function happy calls, each",
    " * calling the function LazyCrypto.load() resolved; see loader.c. */",
    '#include "stubs.h"',
    '#include "../COpenSSL/shim.h"',
    "",
]
lines += [f"HAPPY_CRYPTO_SLOT({name});" for name in wanted]
lines.append("")
lines += [stub(declared[name]) for name in wanted]
lines += ["", "const struct happy_crypto_symbol happy_crypto_symbols[] = {"]
lines += [f"    HAPPY_CRYPTO_SYMBOL({name})," for name in wanted]
lines += ["    {0, 0},", "};"]
generated = "\n".join(lines) + "\n"

if check:
    with open(compared, encoding="utf-8") as committed_file:
        committed = committed_file.read()
    if committed == generated:
        print(f"gen-lazy-crypto: {compared} is current ({len(wanted)} stubs)")
        sys.exit(0)
    with tempfile.NamedTemporaryFile("w", suffix=".c", delete=False) as fresh:
        fresh.write(generated)
    sys.stdout.writelines(difflib.unified_diff(committed.splitlines(True), generated.splitlines(True), compared,
                                               fresh.name))
    sys.exit(f"gen-lazy-crypto: {compared} is stale; run scripts/gen-lazy-crypto.py and commit the result "
             f"(fresh copy: {fresh.name})")
with open(TARGET, "w", encoding="utf-8") as out:
    out.write(generated)
print(f"gen-lazy-crypto: {len(wanted)} stubs in {TARGET}")
