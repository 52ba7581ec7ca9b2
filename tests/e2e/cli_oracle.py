"""Runs AWS CLI v1 commands in one Python process and reports what each printed.

The parity test needs a few hundred CLI runs; starting `aws` for each would cost most of the
time budget, so this runs the CLI's own driver (`awscli.clidriver`) once per command inside a
single interpreter of the tools virtualenv. Input (stdin): a JSON list of argument lists
(without the leading `aws`). Output (stdout): a JSON list of `{"rc", "stdout", "stderr"}`.

Run it with `.venv-tools/bin/python tests/e2e/cli_oracle.py < commands.json`; the caller sets
the environment (TZ, AWS_CONFIG_FILE, credentials) before starting it.
"""

import io
import json
import sys


def run_one(args):
    # Imported here so a broken install shows up as a per-command error, not a crash.
    from awscli.clidriver import create_clidriver

    out, err = io.StringIO(), io.StringIO()
    real_out, real_err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        rc = create_clidriver().main(args)
    except SystemExit as e:  # argparse refusals exit
        rc = e.code if isinstance(e.code, int) else 255
    finally:
        sys.stdout, sys.stderr = real_out, real_err
    return {"rc": rc, "stdout": out.getvalue(), "stderr": err.getvalue()}


def main():
    commands = json.load(sys.stdin)
    results = [run_one(args) for args in commands]
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
