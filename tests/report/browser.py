"""Headless Debian Chromium driven by Selenium (the system browser; nothing is downloaded)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
DRIVER = ("/usr/bin/chromedriver",)

# Chromium's own background traffic is refused on a closed network and would fill the log.
FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1280,1600",
)


def find(paths: tuple[str, ...], name: str) -> str | None:
    for p in paths:
        if Path(p).is_file():
            return p
    return shutil.which(name)


def chromium(user_dir: Path) -> Any:
    """A Selenium WebDriver on the system Chromium (``None`` when it is not installed)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver = find(CHROMIUM, "chromium"), find(DRIVER, "chromedriver")
    if binary is None or driver is None:
        return None
    opts = webdriver.ChromeOptions()
    opts.binary_location = binary
    for f in FLAGS:
        opts.add_argument(f)
    opts.add_argument(f"--user-data-dir={user_dir}")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=driver), options=opts)


def inspect_page(drv: Any, page: Path, screenshot: Path) -> dict[str, Any]:
    """Load ``page``; return its console errors, image states and section titles; screenshot."""
    drv.get(page.resolve().as_uri())
    images = drv.execute_script(
        "return Array.from(document.images).map(i => "
        "({src: i.src.slice(0, 30), ok: i.complete && i.naturalWidth > 0, w: i.naturalWidth}));"
    )
    titles = drv.execute_script(
        "return Array.from(document.querySelectorAll('h2')).map(h => h.textContent);"
    )
    external = drv.execute_script(
        "return performance.getEntriesByType('resource').map(r => r.name)"
        ".filter(n => !n.startsWith('data:') && !n.startsWith('file:'));"
    )
    logs = [e for e in drv.get_log("browser") if e.get("level") == "SEVERE"]
    drv.save_screenshot(str(screenshot))
    return {"images": images, "titles": titles, "errors": logs, "external": external}
