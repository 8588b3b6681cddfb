# Shared by scripts/demo and scripts/test: a project-local virtualenv from the lock file.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "Trame needs Python 3.11 or newer ($PYTHON is $("$PYTHON" --version 2>&1))." >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "Creating .venv ..." >&2
  "$PYTHON" -m venv .venv
fi
install_locked() {  # $1: lock file
  local stamp=".venv/.installed-$(basename "$1")"
  if [ ! -f "$stamp" ] || [ "$1" -nt "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "Installing dependencies from $1 ..." >&2
    # A fresh venv may carry an old setuptools without wheel: the editable install needs both.
    .venv/bin/python -m pip install --quiet --disable-pip-version-check "setuptools>=70" wheel
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$1"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
    touch "$stamp"
  fi
}
