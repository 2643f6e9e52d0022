#!/usr/bin/env bash
# Regenerate docs/configuration.md from the settings object.
set -euo pipefail
cd "$(dirname "$0")/.."
{ cat docs/configuration.intro.md; .venv/bin/amur config --markdown; } > docs/configuration.md
