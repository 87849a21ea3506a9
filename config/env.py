"""The one place the environment is read.

Every setting that can change between machines comes from an environment variable
(or a `.env` file at the project root, for local convenience) through this `env`.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")
