"""Headless Chromium through Selenium, with the few helpers the flow needs.

Uses Debian's chromium and chromedriver (never a downloaded browser or driver). Waits poll the
page until a condition holds or a timeout passes; no fixed sleeps.
"""

import base64
import os
import shutil

from selenium import webdriver
from selenium.common.exceptions import (ElementClickInterceptedException, StaleElementReferenceException,
                                        TimeoutException)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

WAIT_SECONDS = float(os.environ.get("E2E_WAIT_SECONDS", "20"))


def find_binary(env_name, candidates):
    """The first executable among $env_name and the candidates."""
    for path in [os.environ.get(env_name, "")] + candidates:
        if path and (os.path.isabs(path) and os.access(path, os.X_OK) or shutil.which(path)):
            return path if os.path.isabs(path) else shutil.which(path)
    raise RuntimeError(f"none of {candidates} found (set {env_name})")


class Browser:
    """One browser window (one user: sessionStorage is per window)."""

    def __init__(self, name, base_url, shots_dir, width=1280, height=900):
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.shots_dir = shots_dir
        options = webdriver.ChromeOptions()
        options.binary_location = find_binary("E2E_CHROMIUM", ["/usr/bin/chromium", "chromium", "chromium-browser"])
        for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                    "--no-first-run", "--disable-extensions", "--lang=en-US", f"--window-size={width},{height}"):
            options.add_argument(arg)
        # Console messages, read back by console_problems().
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        service = Service(executable_path=find_binary("E2E_CHROMEDRIVER", ["/usr/bin/chromedriver", "chromedriver"]))
        self.driver = webdriver.Chrome(service=service, options=options)
        self.driver.set_window_size(width, height)

    def quit(self):
        try:
            self.driver.quit()
        except Exception:  # noqa: BLE001 - already gone
            pass

    def console_problems(self):
        """SEVERE console entries other than the HTTP error statuses the flow provokes on purpose."""
        problems = []
        for entry in self.driver.get_log("browser"):
            message = entry.get("message", "")
            if entry.get("level") != "SEVERE":
                continue
            if "the server responded with a status of 4" in message:
                continue   # API answers 400/401 the flow asks for; the page shows them in words
            problems.append(message)
        return problems

    # --- navigation ---

    def open(self, hash_part=""):
        self.driver.get(f"{self.base_url}/{hash_part}")

    def go(self, view):
        """Switches view through the nav bar, as a person would."""
        self.click(f'#nav a[href="#{view}"]')
        self.wait_visible(f"#view-{view}")

    # --- finding and waiting ---

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def wait(self, condition, what, timeout=WAIT_SECONDS):
        """Polls condition(driver) until it returns something truthy; returns that."""
        def safe(driver):
            try:
                return condition(driver)
            except (StaleElementReferenceException, ElementClickInterceptedException):
                return False   # re-rendered between find and use, or covered for a moment: poll again
        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.1).until(safe)
        except TimeoutException:
            raise AssertionError(f"[{self.name}] timed out after {timeout:.0f}s waiting for {what}") from None

    def _displayed(self, css, enabled=False):
        """The first element matching css if it is displayed (and enabled), else False."""
        found = self.driver.find_elements(By.CSS_SELECTOR, css)
        if found and found[0].is_displayed() and (not enabled or found[0].is_enabled()):
            return found[0]
        return False

    def wait_visible(self, css, timeout=WAIT_SECONDS):
        return self.wait(lambda d: self._displayed(css), f"{css} to be visible", timeout)

    def wait_text(self, css, predicate, what, timeout=WAIT_SECONDS):
        """Waits until the element's text satisfies predicate; returns the text."""
        def check(d):
            found = d.find_elements(By.CSS_SELECTOR, css)
            if not found or not found[0].is_displayed():
                return False
            text = found[0].text.strip()
            return text if predicate(text) else False
        return self.wait(check, what, timeout)

    def text(self, css):
        """The element's text now; read again if it was re-rendered between find and read (the
        classic countdown redraws every second)."""
        for _ in range(4):
            try:
                return self.find(css).text.strip()
            except StaleElementReferenceException:
                continue
        return self.find(css).text.strip()

    # --- acting ---

    def click(self, css):
        def attempt(d):
            element = self._displayed(css, enabled=True)
            if not element:
                return False
            element.click()   # stale (re-rendered) or covered: raises, and the wait tries again
            return True
        self.wait(attempt, f"{css} to be clicked")

    def fill(self, form_css, field, value):
        element = self.find(f'{form_css} [name="{field}"]')
        element.clear()
        element.send_keys(str(value))

    def choose(self, form_css, field, value):
        """Selects an <option> by value, waiting until the option exists (stock lists load async)."""
        css = f'{form_css} select[name="{field}"]'
        self.wait(lambda d: d.find_elements(By.CSS_SELECTOR, f'{css} option[value="{value}"]'), f"option {value} in {css}")
        Select(self.find(css)).select_by_value(str(value))

    def submit(self, form_css):
        self.click(f"{form_css} button[type=submit]")

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    # --- evidence ---

    def _capture(self, clip, label):
        """Saves the clip {x, y, width, height} (CSS pixels, may reach beyond the window) as
        <browser>-<label>.png; returns its path."""
        shot = self.driver.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True, "clip": {**clip, "scale": 1}})
        path = os.path.join(self.shots_dir, f"{self.name}-{label}.png")
        with open(path, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        return path

    def element_shot(self, css, label):
        """One element, all of it, with a margin (small enough for the README). The capture drops
        the scrollbar, which moves centred content a few pixels: the margin keeps its edges in."""
        rect = self.js("const r = arguments[0].getBoundingClientRect(), m = 12;"
                       "return {x: Math.max(0, r.left + scrollX - m), y: Math.max(0, r.top + scrollY - m),"
                       " width: r.width + 2 * m, height: r.height + 2 * m}", self.find(css))
        return self._capture(rect, label)

    def viewport_shot(self, label):
        """What the window shows."""
        self.js("window.scrollTo(0, 0)")
        return self._capture({"x": 0, "y": 0, "width": self.js("return innerWidth"), "height": self.js("return innerHeight")}, label)

    def screenshot(self, label):
        """The full page (beyond the viewport)."""
        self.js("window.scrollTo(0, 0)")   # the sticky top bar then sits at the top of the picture
        metrics = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        viewport = metrics.get("cssLayoutViewport") or metrics["layoutViewport"]
        # The capture grows the viewport to the page's height, which drops the vertical scrollbar
        # and lays the page out at the window's full inner width: clip to that.
        width = max(1, int(size["width"]), int(viewport["clientWidth"]), int(self.js("return window.innerWidth")))
        height = max(1, min(int(size["height"]), 6000))
        return self._capture({"x": 0, "y": 0, "width": width, "height": height}, label)
