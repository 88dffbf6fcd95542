"""GET /swagger in a real headless browser: Debian's chromium driven by chromedriver (Selenium,
with an explicit driver path, so Selenium Manager never downloads anything).

Skipped, with the reason, when chromium or chromedriver is not installed
(``apt-get install chromium chromium-driver``; ``.ci/run`` tries to install them).
"""

from __future__ import annotations

import shutil

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (requirements-dev.txt)")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)",
)

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

WAIT = 30


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1400,2000"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # to see CSP violations
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def test_try_it_out_initialize_returns_200(local_app, browser, token_issuer) -> None:
    browser.get(local_app.url + "/swagger")
    wait = WebDriverWait(browser, WAIT)
    operation = wait.until(EC.presence_of_element_located((By.ID, "operations-Correspondence-initialize_correspondence")))
    # Every operation of the document is rendered.
    assert len(browser.find_elements(By.CSS_SELECTOR, ".opblock")) >= 10
    assert browser.find_elements(By.ID, "operations-Correspondence-search_correspondences")

    # The page works under its own Content-Security-Policy: nothing refused, nothing missing.
    severe = [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert not severe, severe

    browser.find_element(By.CSS_SELECTOR, "button.authorize").click()
    field = wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, ".modal-ux input")))
    field.send_keys(token_issuer.altinn_token())
    browser.find_element(By.CSS_SELECTOR, ".modal-ux .auth-btn-wrapper button.authorize").click()
    browser.find_element(By.CSS_SELECTOR, ".modal-ux button.btn-done").click()

    operation.find_element(By.CSS_SELECTOR, ".opblock-summary-control").click()
    wait.until(lambda _: operation.find_elements(By.CSS_SELECTOR, "button.try-out__btn"))[0].click()
    wait.until(lambda _: operation.find_elements(By.CSS_SELECTOR, "button.execute"))[0].click()
    status = wait.until(lambda _: operation.find_elements(By.CSS_SELECTOR, ".live-responses-table tbody .response-col_status"))
    assert status[0].text.strip().startswith("200"), operation.find_element(By.CSS_SELECTOR, ".live-responses-table").text
    assert "correspondenceId" in operation.find_element(By.CSS_SELECTOR, ".live-responses-table").text
