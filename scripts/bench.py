#!/usr/bin/env python3
"""make bench: start-up time and peak memory of `happy auth status` (logged in) next to `node -e 0`, and the
approval-to-exit latency of a login against the local server. Release build, measured side by side in one run.
Targets (issue 2): status median under 15 ms and peak RSS under 30 MB."""
import os, re, shutil, statistics, subprocess, sys, tempfile, time

RUNS = int(os.environ.get("BENCH_RUNS", "30"))
LOGINS = int(os.environ.get("BENCH_LOGINS", "5"))


def measure(argv, env):
    """Wall time (ms) and peak RSS (MB) of one run, from wait4's rusage."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = (time.perf_counter() - start) * 1000
    return wall, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def series(name, argv, env):
    results = [measure(argv, env) for _ in range(RUNS)]
    walls = [r[0] for r in results]
    rss = max(r[1] for r in results)
    codes = {r[2] for r in results}
    print(f"{name:<28} median {statistics.median(walls):7.2f} ms   p90 {sorted(walls)[int(RUNS * 0.9) - 1]:7.2f} ms"
          f"   peak RSS {rss:6.1f} MB   exit {sorted(codes)}   ({RUNS} runs)")
    return statistics.median(walls), rss


def start_server(bin_dir, work):
    out = open(os.path.join(work, "server.out"), "w+")
    proc = subprocess.Popen([os.path.join(bin_dir, "happy-test-server"), "serve", "--port", "0"],
                            stdout=out, stderr=subprocess.DEVNULL)
    for _ in range(200):
        out.seek(0)
        m = re.search(r"^listening on (\S+)", out.read(), re.M)
        if m:
            return proc, m.group(1)
        time.sleep(0.05)
    raise SystemExit("the local server did not start")


def login(bin_dir, server, home):
    """One login; returns seconds from the approval being accepted to `happy` exiting."""
    env = dict(os.environ, HAPPY_HOME_DIR=home, HAPPY_SERVER_URL=server)
    proc = subprocess.Popen([os.path.join(bin_dir, "happy"), "auth", "login", "--method", "mobile", "--timeout", "60"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    url = None
    for line in proc.stdout:
        if line.startswith("happy://terminal?"):
            url = line.strip()
            break
    if url is None:
        raise SystemExit("login printed no URL")
    subprocess.run([os.path.join(bin_dir, "happy-test-server"), "approve", "--server", server, url],
                   check=True, stdout=subprocess.DEVNULL)
    approved = time.perf_counter()
    proc.stdout.read()
    proc.wait()
    if proc.returncode != 0:
        raise SystemExit(f"login exited {proc.returncode}")
    return time.perf_counter() - approved


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    os.chdir(root)
    print("==> release build (static Swift runtime)")
    flags = ["-c", "release", "--static-swift-stdlib"]
    subprocess.run(["swift", "build", *flags, "--product", "happy"], check=True)
    subprocess.run(["swift", "build", *flags, "--product", "happy-test-server"], check=True)
    bin_dir = subprocess.run(["swift", "build", *flags, "--show-bin-path"], check=True, capture_output=True,
                             text=True).stdout.strip()
    work = tempfile.mkdtemp()
    server_proc, server = start_server(bin_dir, work)
    try:
        home = os.path.join(work, "home")
        latencies = [login(bin_dir, server, os.path.join(work, f"login{i}")) for i in range(LOGINS)]
        login(bin_dir, server, home)   # the logged-in home the status runs read
        env = dict(os.environ, HAPPY_HOME_DIR=home)
        print(f"==> binary: {os.path.getsize(os.path.join(bin_dir, 'happy')) / 1e6:.1f} MB")
        status_median, status_rss = series("happy auth status", [os.path.join(bin_dir, "happy"), "auth", "status"], env)
        series("happy auth status --json", [os.path.join(bin_dir, "happy"), "auth", "status", "--json"], env)
        node = shutil.which("node")
        if node:
            series("node -e 0", [node, "-e", "0"], env)
        else:
            print("node -e 0                    (node not installed; skipped)")
        print(f"{'approval -> exit (login)':<28} median {statistics.median(latencies) * 1000:7.1f} ms   "
              f"max {max(latencies) * 1000:7.1f} ms   ({LOGINS} logins; polls once a second)")
        ok = status_median < 15 and status_rss < 30
        print(f"==> target status < 15 ms median and < 30 MB peak: {'met' if ok else 'NOT met'}")
    finally:
        server_proc.terminate()
        server_proc.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
