"""Pure parts of the command-line client: chunk planning, recipients, token cache rules, the
dev key id, and the package's pins agreeing with the API's."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

import pytest

from altinn_corr import cli as cli_module
from altinn_corr import tokens
from altinn_corr.uploads import BLOCK_SIZE, MIB, chunks, missing_ranges

ROOT = Path(__file__).resolve().parents[2]


def test_missing_ranges() -> None:
    assert missing_ranges([], 10) == [(0, 10)]
    assert missing_ranges([(0, 4), (6, 8)], 10) == [(4, 6), (8, 10)]
    assert missing_ranges([(0, 10)], 10) == []


def test_chunks_start_on_the_grid_and_end_on_it_or_at_the_end() -> None:
    total = 5 * BLOCK_SIZE + 7
    planned = list(chunks(missing_ranges([(BLOCK_SIZE, 2 * BLOCK_SIZE)], total), 2 * BLOCK_SIZE, BLOCK_SIZE))
    assert planned == [
        (0, BLOCK_SIZE),
        (2 * BLOCK_SIZE, 4 * BLOCK_SIZE),
        (4 * BLOCK_SIZE, total),
    ]
    for start, end in planned:
        assert start % BLOCK_SIZE == 0 and (end % BLOCK_SIZE == 0 or end == total)


def test_chunk_size_limits() -> None:
    from altinn_corr.uploads import check_chunk_size
    from altinn_corr.errors import UsageProblem

    assert check_chunk_size(88 * MIB) == 88 * MIB
    assert 88 * MIB < 100_000_000  # the host's body limit
    for bad in (0, 4 * MIB, 12 * MIB, 96 * MIB):
        with pytest.raises(UsageProblem):
            check_chunk_size(bad)


def test_recipients_from_csv_and_flags() -> None:
    csv_text = "name,recipient\nA,991825827\n# comment\nB, 07827199405 \n\n"
    assert cli_module._csv_recipients(io.StringIO(csv_text)) == ["991825827", "07827199405"]
    assert cli_module._csv_recipients(io.StringIO("991825827\n310000000\n")) == ["991825827", "310000000"]
    assert cli_module._recipient("991825827") == "urn:altinn:organization:identifier-no:991825827"
    assert cli_module._recipient("07827199405") == "07827199405"
    assert cli_module._recipient("0192:991825827") == "0192:991825827"


def test_cached_token_is_refreshed_shortly_before_expiry() -> None:
    now = time.time()
    assert tokens.Token("t", now + 3600, "entra", obtained_at=now).usable(now + 3500)
    assert not tokens.Token("t", now + 3600, "entra", obtained_at=now).usable(now + 3541)
    # a two-minute Maskinporten token is kept for 90 s, not 60
    assert tokens.Token("t", now + 120, "maskinporten", obtained_at=now).usable(now + 89)
    assert not tokens.Token("t", now + 120, "maskinporten", obtained_at=now).usable(now + 91)


def test_dev_kid_matches_tools_devtoken(tmp_path: Path) -> None:
    from tools import devtoken

    key, kid = devtoken.ensure_keys(tmp_path / ".devkeys")
    assert tokens.thumbprint_kid(key) == kid
    assert tokens.find_dev_key(tmp_path) == tmp_path / ".devkeys" / "private.pem"
    token = tokens.dev_token(tokens.TokenOptions(private_key=str(tmp_path / ".devkeys" / "private.pem")))
    import jwt

    assert jwt.get_unverified_header(token.access_token)["kid"] == kid


def test_pins_agree_with_the_api_requirements() -> None:
    """Both install into one venv: a package pinned in both must carry the same version."""
    def pins(lines: list[str]) -> dict[str, str]:
        found = {}
        for line in lines:
            match = re.match(r'\s*"?([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==([^"\s]+)"?', line)
            if match:
                found[match.group(1).lower()] = match.group(2)
        return found

    cli_pins = pins((ROOT / "cli" / "pyproject.toml").read_text().splitlines())
    api_pins = pins((ROOT / "requirements.txt").read_text().splitlines())
    assert {"click", "rich", "requests", "pyjwt", "msal"} <= set(cli_pins)
    shared = set(cli_pins) & set(api_pins)
    assert shared, "expected shared packages"
    assert {name: cli_pins[name] for name in shared} == {name: api_pins[name] for name in shared}
