"""Drives a command in a pseudo-terminal, as a person at a keyboard would.

Reads one JSON object on stdin: {"argv": [...], "cwd": "...", "env": {...}, "timeout": seconds,
"steps": [{"expect": "regex", "send": "text"}, ...]}. Each step waits for its pattern in the
output seen since the previous step's match, then types its text ("\\r" is Enter, "\\u0003"
Ctrl-C). Prints one JSON object: the whole output, the exit status or the terminating signal,
and the index of the step that timed out (null when every step matched).
"""
import json
import os
import pty
import re
import select
import signal
import sys
import time


def main() -> None:
    request = json.load(sys.stdin)
    env = dict(os.environ)
    env.update(request.get("env", {}))
    env["TERM"] = "xterm-256color"
    deadline = time.monotonic() + float(request.get("timeout", 60))
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(request["cwd"])
        os.execvpe(request["argv"][0], request["argv"], env)
    output = b""
    seen = 0
    failed_step = None

    def read_some(wait: float) -> bool:
        nonlocal output
        ready, _, _ = select.select([fd], [], [], wait)
        if not ready:
            return True
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            return False
        if not chunk:
            return False
        output += chunk
        return True

    open_ = True
    for index, step in enumerate(request["steps"]):
        pattern = re.compile(step["expect"])
        while True:
            text = output.decode("utf-8", "replace")
            match = pattern.search(text, seen)
            if match:
                seen = match.end()
                break
            if not open_ or time.monotonic() > deadline:
                failed_step = index
                break
            open_ = read_some(0.1)
        if failed_step is not None:
            break
        # Let the prompt finish drawing before typing, as a person would.
        time.sleep(float(step.get("delay", 0.15)))
        os.write(fd, step["send"].encode("utf-8"))
    while open_ and time.monotonic() < deadline:
        open_ = read_some(0.1)
    if open_:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    result = {
        "output": output.decode("utf-8", "replace"),
        "exitCode": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "failedStep": failed_step,
        "timedOut": open_,
    }
    json.dump(result, sys.stdout)


main()
