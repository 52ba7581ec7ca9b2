"""Runs AWS CLI v1 commands in one Python process and reports what each printed.

The parity test needs a few hundred CLI runs; starting `aws` for each would cost most of the
time budget, so this runs the CLI's own driver (`awscli.clidriver`) once per command inside a
single interpreter of the tools virtualenv. Each command gets a fresh driver and botocore
session (so `--region` and other per-command settings cannot leak into the next command);
only the data loader, which reads the static model files, is shared, which makes a command
about four times cheaper.

Protocol: each stdin line is a JSON list of argument lists (without the leading `aws`); the
answer is one stdout line, a JSON list of `{"rc", "stdout", "stderr"}`. Commands run in order.
The caller sets the environment (TZ, AWS_CONFIG_FILE, credentials) and working directory.
"""

import io
import json
import sys

from awscli.clidriver import create_clidriver

# The loader of a CLI session already knows the CLI's own data path as well as botocore's.
LOADER = create_clidriver().session.get_component("data_loader")


def run_one(args):
    out, err = io.StringIO(), io.StringIO()
    real_out, real_err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        driver = create_clidriver()
        driver.session.register_component("data_loader", LOADER)
        rc = driver.main(args)
    except SystemExit as e:  # argparse refusals exit
        rc = e.code if isinstance(e.code, int) else 255
    finally:
        sys.stdout, sys.stderr = real_out, real_err
    return {"rc": rc, "stdout": out.getvalue(), "stderr": err.getvalue()}


def main():
    for line in sys.stdin:
        results = [run_one(args) for args in json.loads(line)]
        sys.stdout.write(json.dumps(results) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
