"""AWS CLI commands in the skills: extraction (standard library only) and a check against the
AWS CLI's own command table (needs the `awscli` package, so it runs under the tools venv).

Extraction is reusable on its own: `aws_commands(markdown)` returns every `aws ...` command of
the ```bash blocks, continuation lines joined, as (line number, argv after `aws`).

Run as a script to check files (prints a JSON list of problems, exit 1 when there are any):

    /work/main/.venv-tools/bin/python tests/e2e/skill_commands.py infra/skills/*/SKILL.md ...

A command is valid when its service exists, its command (an operation in kebab case or one of
the CLI's own commands such as `aws s3 cp` or `aws deploy push`, and `wait <waiter>`) exists,
every `--option` is one of that command's arguments or a global option, and every literal value
of an option whose shape is an enum (or a list of enums) is one of the enum's values; literal
shorthand or JSON values are parsed by the CLI's own parser and their keys and enum values are
checked against the input shape; a boolean switch takes no value and no other stray word
may follow an option; a literal `--query` may only name fields the operation's output has.
Words holding shell variables, command substitutions, file://
references or <placeholders> are not checked. The installed CLI is version 1: the few commands
and global options that only version 2 has are listed below (V2_*) and accepted.
"""
from __future__ import annotations

import json
import re
import shlex
import sys
from pathlib import Path

FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*([\w+-]*)")
HEREDOC = re.compile(r"<<-?\s*['\"]?(\w+)['\"]?")
# `aws` where a command starts: line start, after a separator, `$(`, a backquote or env assignments.
AWS_AT_COMMAND = re.compile(r"(?:^|[|;&(`]|\$\()\s*(?:\w+=\S*\s+)*(?:time\s+)?aws(?=\s|$)")
STOP_TOKENS = {"|", "||", ";", "&", "&&", ")", ">", ">>", "<", "2>", "2>&1", "&>", "|&", "(", ";;"}

# Only in AWS CLI version 2 (the version the skills are written for).
V2_GLOBALS = {"cli-binary-format", "no-cli-pager", "cli-auto-prompt", "no-cli-auto-prompt"}
V2_COMMANDS = {
    ("logs", "tail"): {"follow", "since", "format", "filter-pattern", "log-stream-names",
                       "log-stream-name-prefix"},
    ("sso", "login"): {"sso-session", "no-browser", "use-device-code"},
    ("sso", "logout"): set(),
    ("configure", "sso"): {"sso-session", "no-browser", "use-device-code"},
    ("configure", "sso-session"): set(),
    ("configure", "export-credentials"): {"format"},
    ("configure", "list-profiles"): set(),
}
GLOBAL_FLAGS = {"debug", "no-verify-ssl", "no-paginate", "no-sign-request", "no-cli-pager",
                "version", "cli-auto-prompt", "no-cli-auto-prompt"}
V2_TOP_LEVEL = {"login": {"remote", "all"}, "logout": {"all"}}
V2_REMOVED = {("ecr", "get-login"): "removed in AWS CLI v2: use aws ecr get-login-password"}


def code_blocks(text: str, languages=("bash", "sh", "shell", "console", "zsh")):
    """(first line number, lines) of every fenced block whose info string is one of languages."""
    blocks, current, fence, start = [], None, None, 0
    for number, line in enumerate(text.splitlines(), 1):
        m = FENCE.match(line)
        if current is None:
            if m:
                fence, start = m.group(2), number + 1
                current = [] if m.group(3).lower() in languages else False
        elif m and m.group(2).startswith(fence[0]) and len(m.group(2)) >= len(fence) \
                and not m.group(3):
            if current is not False:
                blocks.append((start, current))
            current = None
        elif current is not False:
            current.append(line)
    return blocks


def logical_lines(start: int, lines: list[str]):
    """(line number, text) with `\\` continuations joined and here-document bodies dropped."""
    out, buf, first, until = [], "", None, None
    for number, line in enumerate(lines, start):
        if until is not None:
            if line.strip() == until:
                until = None
            continue
        if first is None:
            first = number
        if line.rstrip().endswith("\\"):
            buf += line.rstrip()[:-1] + " "
            continue
        buf += line
        if open_quote(buf):  # a quoted value (JSON, a script) goes on over several lines
            buf += "\n"
            continue
        out.append((first, buf))
        m = HEREDOC.search(buf)
        if m and not re.search(r"<<<", buf):
            until = m.group(1)
        buf, first = "", None
    if buf:
        out.append((first, buf))
    return out


def open_quote(text: str) -> bool:
    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    try:
        list(lexer)
    except ValueError:
        return True
    return False


def split_words(text: str) -> list[str]:
    text = re.sub(r"(?<![\w-])\d+>", ">", text)  # 2>&1, 2>/dev/null: redirections end the command
    lexer = shlex.shlex(text, posix=True, punctuation_chars=";&|()<>")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    try:
        return list(lexer)
    except ValueError:  # unbalanced quotes: fall back to plain splitting
        return text.split()


def aws_commands(markdown: str) -> list[tuple[int, list[str]]]:
    """Every `aws ...` command in the shell blocks: (line number, words after `aws`)."""
    found = []
    for start, lines in code_blocks(markdown):
        for number, line in logical_lines(start, lines):
            code = line.lstrip()
            if code.startswith("#"):
                continue
            for m in AWS_AT_COMMAND.finditer(line):
                words = []
                for word in split_words(line[m.end():]):
                    if word in STOP_TOKENS or re.fullmatch(r"[0-9]?[<>|&;()]+.*", word):
                        break
                    words.append(word)
                found.append((number, words))
    return found


def python_blocks(markdown: str) -> list[tuple[int, str]]:
    return [(start, "\n".join(lines)) for start, lines in code_blocks(markdown, ("python", "py"))]


def is_literal(word: str) -> bool:
    """False for values the reader fills in: variables, substitutions, files, placeholders."""
    return not re.search(r"\$|`|<[^>]*>|^file://|^fileb://|\.\.\.|^\*$", word)


# --------------------------------------------------------------------------- the check (awscli)

class Checker:
    def __init__(self):
        from awscli.clidriver import create_clidriver
        self.driver = create_clidriver()
        self.services = self.driver._get_command_table()
        self.globals = set(self.driver._get_argument_table()) | V2_GLOBALS

    @staticmethod
    def subcommands(command) -> dict:
        if hasattr(command, "_get_command_table"):
            return command._get_command_table()
        return getattr(command, "subcommand_table", None) or {}

    def check(self, words: list[str]) -> list[str]:
        words = list(words)
        problems: list[str] = []
        # Global options may precede the service.
        while words and words[0].startswith("--"):
            name = words.pop(0)[2:].split("=", 1)[0]
            if name not in self.globals:
                return [f"unknown global option --{name}"]
            if words and not words[0].startswith("--") and name not in GLOBAL_FLAGS:
                words.pop(0)
        if not words or words[0] in {"help", "--version"}:
            return problems
        service_name = words.pop(0)
        if not is_literal(service_name):
            return problems
        if service_name in V2_TOP_LEVEL:
            allowed = V2_TOP_LEVEL[service_name] | self.globals
            return [f"aws {service_name}: unknown option {w}" for w in words
                    if w.startswith("--") and w[2:].split("=", 1)[0] not in allowed]
        service = self.services.get(service_name)
        if service is None:
            return [f"unknown service {service_name!r}"]
        if not words or words[0] == "help":
            return problems
        path = [service_name]
        command = service
        while words and not words[0].startswith("-"):
            table = self.subcommands(command)
            if not table:
                break
            name = words[0]
            if not is_literal(name):
                return problems
            if tuple(path + [name])[:2] in V2_COMMANDS and len(path) == 1:
                return self.check_v2(path[0], name, words[1:])
            if len(path) == 1 and (path[0], name) in V2_REMOVED:
                return [f"aws {path[0]} {name}: {V2_REMOVED[(path[0], name)]}"]
            if name not in table:
                return [f"unknown command 'aws {' '.join(path)} {name}'"]
            command = table[name]
            path.append(name)
            words.pop(0)
        if len(path) == 1 and service_name not in {"configure"}:
            if words and words[0] in {"--help", "help"}:
                return problems
            return [f"'aws {service_name}' needs a command"]
        args = getattr(command, "arg_table", {}) or {}
        return self.check_options(" ".join(path), command, args, words)

    def check_v2(self, service: str, name: str, words: list[str]) -> list[str]:
        allowed = V2_COMMANDS[(service, name)] | self.globals
        return [f"aws {service} {name}: unknown option --{w[2:]}" for w in words
                if w.startswith("--") and w[2:].split("=", 1)[0] not in allowed]

    def check_options(self, label: str, command, args: dict, words: list[str]) -> list[str]:
        problems = []
        values: dict[str, list[str]] = {}
        current = None
        strays: list[str] = []
        global_value = False
        for word in words:
            if global_value:  # the value of --region, --query, --output, ...
                global_value = False
                continue
            if word.startswith("--") and len(word) > 2 and not word.startswith("---"):
                name, eq, value = word[2:].partition("=")
                if name not in args and name not in self.globals:
                    problems.append(f"aws {label}: unknown option --{name}")
                    current = None
                    continue
                current = name if name in args and not is_flag(args[name]) else None
                global_value = name not in args and name not in GLOBAL_FLAGS and not eq
                values.setdefault(name, [])
                if eq:
                    values[name].append(value)
            elif current is None:
                strays.append(word)
            else:
                values[current].append(word)
                # One word per option unless it takes a list; the rest are positional.
                if not takes_many(args[current]):
                    current = None
        positional = [a for a in args.values() if getattr(a, "positional_arg", False)
                      or not str(getattr(a, "cli_name", "--")).startswith("--")]
        counts = [getattr(a, "nargs", None) for a in positional]
        unlimited = any(n in ("+", "*") for n in counts)
        allowed = sum(n if isinstance(n, int) else 1 for n in counts)
        if not unlimited and len(strays) > allowed:
            flags = [f"--{n}" for n in values if n in args and is_flag(args[n])]
            hint = f" ({', '.join(flags)} takes no value)" if flags else ""
            problems.append(f"aws {label}: unexpected word(s) {' '.join(strays[allowed:])}{hint}")
        for name, given in values.items():
            arg = args.get(name)
            if arg is None or not given:
                continue
            problems += self.check_value(label, name, arg, given)
        query = next((w[len("--query="):] for w in words if w.startswith("--query=")), None)
        if "--query" in words and words.index("--query") + 1 < len(words):
            query = words[words.index("--query") + 1]
        output_shape = getattr(getattr(command, "_operation_model", None), "output_shape", None)
        if query and output_shape is not None and is_literal(query):
            problems += [f"aws {label} --query: {p}" for p in check_query(query, output_shape)]
        return problems

    def check_value(self, label: str, name: str, arg, given: list[str]) -> list[str]:
        model = getattr(arg, "argument_model", None)
        if model is None or not all(is_literal(v) for v in given):
            return []
        if model.type_name in ("structure", "list", "map") and not (
                model.type_name == "list" and getattr(model.member, "type_name", "") == "string"):
            return self.check_structured(label, name, arg, given)
        enum = getattr(model, "enum", None)
        if model.type_name == "list":
            enum = getattr(model.member, "enum", None)
        if enum:
            bad = [v for v in given if v not in enum]
            if bad:
                return [f"aws {label} --{name}: {', '.join(bad)} not one of {', '.join(enum)}"]
        return []

    def check_structured(self, label: str, name: str, arg, given: list[str]) -> list[str]:
        from awscli.argprocess import ParamError
        from awscli.paramfile import get_paramfile  # noqa: F401  (values with file:// are skipped)
        params: dict = {}
        value = given if takes_many(arg) else given[0]
        try:
            arg.add_to_params(params, value)
        except (ParamError, ValueError, TypeError) as e:
            return [f"aws {label} --{name}: value does not parse: {str(e).splitlines()[0][:160]}"]
        except Exception as e:  # noqa: BLE001  the CLI raises several error types for bad input
            return [f"aws {label} --{name}: value does not parse ({type(e).__name__}: {str(e)[:160]})"]
        # A customised argument (e.g. `aws deploy create-deployment --s3-location`) fills other
        # request members: its own parse succeeding is the check.
        py_name = getattr(arg, "_serialized_name", None)
        if not params or py_name not in params or getattr(arg, "argument_model", None) is None:
            return []
        member = params[py_name]
        return [f"aws {label} --{name}: {p}" for p in walk(arg.argument_model, member, name)]


def is_flag(arg) -> bool:
    """A boolean switch (`--x` / `--no-x`): it takes no value."""
    from awscli.arguments import BooleanArgument
    return isinstance(arg, BooleanArgument) or getattr(arg, "action", None) in ("store_true", "store_false")


class ProjectedList:
    """The shape of a projection's result: a list of what the right-hand side gives."""
    type_name = "list"
    name = "projection"

    def __init__(self, member):
        self.member = member


def check_query(expression: str, shape) -> list[str]:
    """Field names of a JMESPath --query that the operation's output can never contain. Only
    what can be followed through the output shape is checked (functions, pipes and wildcards
    end the check on their branch), so a report is always a real mistake."""
    import jmespath
    try:
        tree = jmespath.compile(expression).parsed
    except Exception as e:  # noqa: BLE001  jmespath raises several parse error types
        return [f"does not parse: {e}"]
    problems: list[str] = []

    def resolve(node, current):
        kind, children = node["type"], node.get("children", [])
        if kind == "field":
            if current is None:
                return None
            if current.type_name == "structure":
                if node["value"] in current.members:
                    return current.members[node["value"]]
                known = ", ".join(list(current.members)[:12])
                problems.append(f"no field {node['value']!r} in {current.name} (it has {known})")
                return None
            return current.value if current.type_name == "map" else None
        if kind in ("subexpression", "pipe"):
            return resolve(children[1], resolve(children[0], current))
        if kind == "index_expression":
            left = resolve(children[0], current)
            if left is None or left.type_name != "list":
                return None
            return left if children[1]["type"] == "slice" else left.member
        if kind == "flatten":  # a list of lists becomes one list
            left = resolve(children[0], current)
            if left is None or left.type_name != "list":
                return None
            inner = left.member
            return inner if inner is not None and inner.type_name == "list" else left
        if kind in ("projection", "filter_projection"):
            left = resolve(children[0], current)
            element = left.member if left is not None and left.type_name == "list" else None
            if kind == "filter_projection":
                resolve(children[2], element)
            projected = resolve(children[1], element)
            return ProjectedList(projected) if projected is not None else None
        if kind == "value_projection":
            left = resolve(children[0], current)
            resolve(children[1], left.value if left is not None and left.type_name == "map" else None)
            return None
        if kind in ("identity", "current"):
            return current
        for child in children:  # multi-selects, comparators, functions, and/or/not
            if isinstance(child, dict):
                resolve(child, current)
        return None

    resolve(tree, shape)
    return problems


def takes_many(arg) -> bool:
    model = getattr(arg, "argument_model", None)
    return getattr(arg, "nargs", None) in ("+", "*") or getattr(model, "type_name", "") == "list"


def walk(shape, value, where: str) -> list[str]:
    """Unknown keys and invalid enum values in a parsed value, against its shape."""
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        out = []
        for key, item in value.items():
            if key not in shape.members:
                out.append(f"{where}: unknown key {key!r}")
            else:
                out += walk(shape.members[key], item, f"{where}.{key}")
        return out
    if kind == "list" and isinstance(value, list):
        return [p for i, item in enumerate(value) for p in walk(shape.member, item, f"{where}[{i}]")]
    if kind == "map" and isinstance(value, dict):
        keys = getattr(shape.key, "enum", None)
        bad = [f"{where}: key {k!r} not one of {', '.join(keys)}" for k in value
               if keys and is_literal(k) and k not in keys]
        return bad + [p for k, item in value.items() for p in walk(shape.value, item, f"{where}.{k}")]
    enum = getattr(shape, "enum", None)
    if enum and isinstance(value, str) and is_literal(value) and value not in enum:
        return [f"{where}: {value!r} not one of {', '.join(enum)}"]
    return []


def check_files(paths: list[str]) -> list[dict]:
    checker = Checker()
    problems = []
    for path in paths:
        text = Path(path).read_text(encoding="utf-8")
        for line, words in aws_commands(text):
            for problem in checker.check(words):
                problems.append({"file": path, "line": line, "command": "aws " + " ".join(words),
                                 "problem": problem})
    return problems


if __name__ == "__main__":
    found = check_files(sys.argv[1:])
    print(json.dumps(found, indent=1))
    sys.exit(1 if found else 0)
