"""Starting Spark for training: a session, its Python workers, and one-line failures.

A master that cannot work is found before the JVM starts: a standalone or Kubernetes master that
does not answer on its port (Spark itself would retry for about 100 s and then print a Java stack
trace), ``yarn`` without the Hadoop configuration that says where YARN is. Each is one line.

Python workers run the driver's own interpreter on a local master (Spark would start whatever
``python3`` is on the PATH, usually without numpy or this project), and the ``recommender``
package is shipped to the executors (``addPyFile``), so they import it on any master without a
PYTHONPATH set by hand.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import warnings
import zipfile
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from pyspark.sql import SparkSession

DEFAULT_MASTER = "local[*]"
QUIET_LOG_CONFIG = Path(__file__).with_name("log4j2.properties")
CONNECT_SECONDS = 5.0  # per address of the master: well within the 30 s a failure may take
STANDALONE_PORT = 7077
LOCAL_SHUFFLE_PARTITIONS = 8  # Spark's 200 suit a cluster, not a laptop's cores
PACKAGE = Path(__file__).resolve().parents[1]  # recommender/
_SHIPPED: set[str] = set()  # applications that have the package already

# pyspark 4.3 warns about pandas 3 on every conversion; the conversions used here are tested.
warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")


class EngineError(RuntimeError):
    """Spark cannot run (no Java, an unreachable master, a setting too small): one line."""


def spark_session(
    master: str = DEFAULT_MASTER,
    shuffle_partitions: int | None = None,
    conf: Mapping[str, str] | None = None,
) -> SparkSession:
    """A SparkSession for training: no UI, Arrow on, quiet logs, workers ready (see module).

    ``conf`` adds Spark settings (e.g. ``{"spark.driver.maxResultSize": "16m"}``). Raises
    EngineError with one line when the master cannot be reached or Spark does not start.
    """
    check_master(master)
    builder = (
        SparkSession.builder.master(master)
        .appName("movierec-train")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")  # the log reports stages instead
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={QUIET_LOG_CONFIG}")
    )
    if master.startswith("local") and shuffle_partitions is None:
        shuffle_partitions = LOCAL_SHUFFLE_PARTITIONS
    if shuffle_partitions is not None:
        builder = builder.config("spark.sql.shuffle.partitions", str(shuffle_partitions))
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except Exception as error:  # py4j and JVM start-up errors
        raise EngineError(start_failure(master, error)) from None
    spark.sparkContext.setLogLevel("ERROR")
    prepare_workers(spark)
    return spark


def prepare_workers(spark: SparkSession) -> None:
    """Python workers run this interpreter on a local master, and import this package on any.

    Spark starts workers with $PYSPARK_PYTHON, else ``python3`` from the PATH (not a virtual
    environment's); on a cluster set PYSPARK_PYTHON to an interpreter with requirements.txt.
    """
    context = spark.sparkContext
    if context.master.startswith("local") and "PYSPARK_PYTHON" not in os.environ:
        context.pythonExec = sys.executable
    if context.applicationId not in _SHIPPED:
        context.addPyFile(str(_package_archive()))
        _SHIPPED.add(context.applicationId)


def _package_archive() -> Path:
    """The ``recommender`` package as a zip of its sources, removed when this process ends."""
    folder = Path(tempfile.mkdtemp(prefix="movierec-spark-"))
    atexit.register(shutil.rmtree, folder, True)
    archive = folder / "recommender.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(PACKAGE.rglob("*.py")):
            bundle.write(path, path.relative_to(PACKAGE.parent).as_posix())
    return archive


def java_version() -> int:
    """The major version of the java Spark would start ($JAVA_HOME's, else the PATH's); 0 if
    there is none."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not java:
        return 0
    try:
        shown = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return 0
    found = re.search(r'version "(\d+)(?:\.(\d+))?', shown.stderr)
    if not found:
        return 0
    major = int(found.group(1))
    return int(found.group(2) or 0) if major == 1 else major  # "1.8" is Java 8


# --- the master, before the JVM starts ----------------------------------------------------------


def check_master(master: str) -> None:
    """Raise EngineError (one line, with the fix) for a master that cannot work."""
    if master != "yarn" and not master.startswith(("local", "spark://", "k8s://")):
        raise EngineError(  # Spark's launcher would print a Java stack trace and exit
            f"--spark-master {master} is not a Spark master URL: use local[*], local[N], "
            "spark://HOST:PORT, yarn or k8s://https://HOST:PORT"
        )
    if master == "yarn":
        folders = [os.environ.get(name) for name in ("HADOOP_CONF_DIR", "YARN_CONF_DIR")]
        if not any(folder and Path(folder).is_dir() for folder in folders):
            raise EngineError(
                f"--spark-master {master} needs HADOOP_CONF_DIR (or YARN_CONF_DIR) set to the "
                "folder of the cluster's Hadoop configuration (core-site.xml, yarn-site.xml); "
                "it is not set or not a folder"
            )
    addresses = master_addresses(master)
    if not addresses:
        return
    problems = [problem for host, port in addresses if (problem := _unreachable(host, port))]
    if len(problems) == len(addresses):
        raise EngineError(
            f"cannot reach the Spark master {master}: {'; '.join(problems)}. Check the host and "
            "port and that the master is running, or train on this machine with "
            "--spark-master 'local[*]'"
        )


def master_addresses(master: str) -> list[tuple[str, int]]:
    """(host, port) of each address a standalone (spark://) or Kubernetes (k8s://) master has."""
    if master.startswith("spark://"):
        hosts = master.removeprefix("spark://").split(",")
        return [_host_port(f"//{host}", STANDALONE_PORT) for host in hosts if host]
    if master.startswith("k8s://"):
        url = master.removeprefix("k8s://")
        url = url if "://" in url else f"https://{url}"
        return [_host_port(url, 80 if url.startswith("http://") else 443)]
    return []


def _host_port(url: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "", parts.port or default_port


def _unreachable(host: str, port: int) -> str | None:
    """Why nothing answers at host:port, or None when something does."""
    try:
        with socket.create_connection((host, port), timeout=CONNECT_SECONDS):
            return None
    except socket.gaierror:
        return f"cannot resolve the host {host!r}"
    except TimeoutError:
        return f"{host}:{port} did not answer within {CONNECT_SECONDS:g} s"
    except OSError as error:
        return f"{host}:{port}: {error.strerror or error}"


def start_failure(master: str, error: Exception) -> str:
    """One line for an error of SparkSession.getOrCreate."""
    text = str(error)
    if "JAVA_GATEWAY_EXITED" in text or isinstance(error, FileNotFoundError):
        if java_version() < 17:
            return (
                "Spark's Java process did not start: Spark 4 needs Java 17 or newer "
                "(install it, e.g. apt-get install openjdk-17-jre-headless, or set JAVA_HOME)"
            )
        return f"Spark's Java process exited as it started on {master} (its reason is above)"
    java = getattr(error, "java_exception", None)
    first = str(java.toString()) if java is not None else (text.strip().splitlines() or [""])[0]
    return f"Spark did not start on {master}: {first}"
