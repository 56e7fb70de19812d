#!/usr/bin/env python3
"""make bench: the stripped binary's size, start-up time and peak memory of `happy auth status` (logged in) next to
the floor (scripts/floor.swift: the same two files read with FoundationEssentials only, built here) and
`env -i PATH=/usr/bin:/bin node -e 0`, and the approval-to-exit latency of a login against the local server.
Release build, measured side by side in one run.
Targets (issue 10): stripped binary <= 32 MB; status median <= 2.2x the floor and <= 0.25x node; peak RSS <= 16 MiB."""
import os, re, shutil, statistics, subprocess, sys, tempfile, time

RUNS = int(os.environ.get("BENCH_RUNS", "30"))
LOGINS = int(os.environ.get("BENCH_LOGINS", "5"))


# A tiny C launcher forks and execs each measured program: a child forked from Python would start from Python's
# ~14 MiB (exec keeps the old image's RSS high-water mark in ru_maxrss), hiding every peak under that.
LAUNCHER_C = r"""
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char **argv) {
    struct timespec a, b; struct rusage ru; int status;
    clock_gettime(CLOCK_MONOTONIC, &a);
    pid_t pid = fork();
    if (pid == 0) { execv(argv[1], argv + 1); _exit(127); }
    wait4(pid, &status, 0, &ru);
    clock_gettime(CLOCK_MONOTONIC, &b);
    fprintf(stderr, "%.3f %ld %d\n", (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6, ru.ru_maxrss,
            WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    return 0;
}
"""
LAUNCHER = None


def measure(argv, env):
    """Wall time (ms), peak RSS (MiB) and exit status of one run, as the launcher measures them."""
    out = subprocess.run([LAUNCHER, *argv], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                         check=True).stderr.split()
    return float(out[-3]), int(out[-2]) / 1024, int(out[-1])


def series(programs):
    """RUNS interleaved rounds of every program; prints and returns {name: (median ms, peak RSS MiB)}."""
    runs = {name: [] for name, _, _ in programs}
    for _ in range(RUNS):
        for name, argv, env in programs:
            runs[name].append(measure(argv, env))
    out = {}
    for name, results in runs.items():
        walls = [r[0] for r in results]
        rss = max(r[1] for r in results)
        codes = {r[2] for r in results}
        print(f"{name:<28} median {statistics.median(walls):7.2f} ms   p90 {sorted(walls)[int(RUNS * 0.9) - 1]:7.2f} ms"
              f"   peak RSS {rss:6.1f} MiB   exit {sorted(codes)}   ({RUNS} runs)")
        out[name] = (statistics.median(walls), rss)
    return out


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
    with open(os.path.join(root, "scripts", "release.flags")) as f:
        flags = f.read().split()   # the flags of make release and make deb
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
        stripped = os.path.join(work, "happy")
        subprocess.run(["strip", "-o", stripped, os.path.join(bin_dir, "happy")], check=True)
        size = os.path.getsize(stripped) / 1e6
        print(f"==> binary: {size:.1f} MB stripped (as `make install` and `make deb` ship it), "
              f"{os.path.getsize(os.path.join(bin_dir, 'happy')) / 1e6:.1f} MB unstripped")
        global LAUNCHER
        LAUNCHER = os.path.join(work, "launch")
        with open(LAUNCHER + ".c", "w") as f:
            f.write(LAUNCHER_C)
        subprocess.run(["clang", "-O2", "-o", LAUNCHER, LAUNCHER + ".c"], check=True)
        floor = os.path.join(work, "floor")
        subprocess.run(["swiftc", "-O", "-static-stdlib", os.path.join(root, "scripts", "floor.swift"), "-o", floor],
                       check=True)
        # Interleaved rounds, so a busy moment of the machine weighs on every program alike.
        programs = [("happy auth status", [stripped, "auth", "status"], env),
                    ("happy auth status --json", [stripped, "auth", "status", "--json"], env),
                    ("floor (scripts/floor.swift)", [floor], env)]
        node = shutil.which("node")
        if node:
            programs.append(("node -e 0 (env -i)", ["/usr/bin/env", "-i", "PATH=/usr/bin:/bin", node, "-e", "0"],
                             env))
        else:
            print("node -e 0                    (node not installed; skipped)")
        results = series(programs)
        print(f"{'approval -> exit (login)':<28} median {statistics.median(latencies) * 1000:7.1f} ms   "
              f"max {max(latencies) * 1000:7.1f} ms   ({LOGINS} logins; polls once a second)")
        status_median, status_rss = results["happy auth status"]
        floor_median = results["floor (scripts/floor.swift)"][0]
        checks = [(f"stripped binary {size:.1f} MB <= 32 MB", size <= 32),
                  (f"status/floor {status_median / floor_median:.2f}x <= 2.2x", status_median / floor_median <= 2.2),
                  (f"status peak RSS {status_rss:.1f} MiB <= 16 MiB", status_rss <= 16)]
        if node:
            node_median = results["node -e 0 (env -i)"][0]
            checks.append((f"status/node {status_median / node_median:.2f}x <= 0.25x",
                           status_median / node_median <= 0.25))
        for text, ok in checks:
            print(f"==> target {text}: {'met' if ok else 'NOT met'}")
    finally:
        server_proc.terminate()
        server_proc.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
