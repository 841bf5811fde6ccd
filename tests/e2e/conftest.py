"""Browser tests: the hospital served for real (`hospital demo` in a subprocess, SQLite in a temporary data
directory) and Debian's Chromium driven by Playwright, with a fake webcam per clinician.

The browser tests run on SQLite only: it is the database of the server they start. The API suite covers
PostgreSQL. Screenshots go to `test-artifacts/screenshots/` (gitignored), one per step.

Faces: the camera of the doctor shows `obama.jpg`. The demo enrols doctor.wang from `faces/obama.jpg`, and the
enrolment photo held up to the camera is refused as a replay (docs/face-tolerance.md), so this hospital's
faces directory holds another photo of the same man (`obama3.jpg`) under that name. The pharmacist's camera
shows Biden's face cut from `obama_and_biden.jpg`; he is enrolled from `biden.jpg`. The camera "alex" shows
`tests/data/faces/alex1.jpg`, the photo a newly admitted doctor is enrolled from (one face, one clinician:
a third clinician needs a third person's face, FACE-01).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, Playwright, expect, sync_playwright

from tests.demo_server import demo_server
from tests.e2e.axe import assert_accessible
from tests.e2e.camera import portrait, write_y4m
from tests.faces import EXTRA_FACES

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("HOSPITAL_SHARED_DIR", REPO.parent / "shared"))
CHROMIUM = os.environ.get("HOSPITAL_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def e2e_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("e2e")


@pytest.fixture(scope="session")
def hospital_url(e2e_dir: Path) -> Iterator[str]:
    """The demo hospital on a free port; stopped at the end of the session."""
    faces = e2e_dir / "shared" / "faces"
    faces.mkdir(parents=True)
    shutil.copy(SHARED / "faces" / "obama3.jpg", faces / "obama.jpg")  # see the module docstring
    shutil.copy(SHARED / "faces" / "biden.jpg", faces / "biden.jpg")
    with demo_server(e2e_dir / "data", {"HOSPITAL_SHARED_DIR": str(e2e_dir / "shared")}, start_timeout=90,
                     stop_timeout=15) as url:
        yield url


@pytest.fixture(scope="session")
def cameras(e2e_dir: Path) -> dict[str, Path]:
    """A .y4m per clinician: the doctor shows obama.jpg, the pharmacist Biden from the group photo."""
    return {
        "doctor": write_y4m(portrait(SHARED / "faces" / "obama.jpg"), e2e_dir / "doctor.y4m"),
        "pharmacist": write_y4m(portrait(SHARED / "faces" / "obama_and_biden.jpg", face=0), e2e_dir / "pharmacist.y4m"),
        "alex": write_y4m(portrait(EXTRA_FACES / "alex1.jpg"), e2e_dir / "alex.y4m"),
    }


# Package scope, not session: Playwright's sync API keeps an event loop running in this thread while it is
# open, and every asyncio test collected after tests/e2e would then fail to start its own loop.
@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Debian's Chromium is missing at {CHROMIUM}: apt-get install chromium (make test installs it)")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def launch(playwright: Playwright) -> Iterator[Callable[..., Browser]]:
    """Launch Chromium with a fake camera showing `camera` (a .y4m), or Chromium's test pattern; closed at the end."""
    browsers: list[Browser] = []

    def start(camera: Path | None = None, *, allow_camera: bool = True) -> Browser:
        args = [*CHROMIUM_ARGS, "--use-fake-device-for-media-stream"]
        if allow_camera:  # the fake permission prompt says yes; without it the prompt is refused
            args.append("--use-fake-ui-for-media-stream")
        if camera is not None:
            args.append(f"--use-file-for-fake-video-capture={camera}")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        browsers.append(browser)
        return browser

    yield start
    for browser in browsers:
        browser.close()


@pytest.fixture(scope="package")
def plain_browser(launch: Callable[..., Browser]) -> Browser:
    """For patients, administrators and the public: no camera needed."""
    return launch()


class Screens:
    """Numbered screenshots of one test in test-artifacts/screenshots/."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.count = 0
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for old in SCREENSHOTS.glob(f"{prefix}-*.png"):
            old.unlink()

    def __call__(self, page: Page, name: str, *, full_page: bool = True, area: Locator | None = None) -> Path:
        """Screenshot the page (or only `area` of it, e.g. one section) and check the whole page with axe."""
        self.count += 1
        path = SCREENSHOTS / f"{self.prefix}-{self.count:02d}-{name}.png"
        if area is not None:
            area.screenshot(path=str(path))
        else:
            page.screenshot(path=str(path), full_page=full_page)
        assert_accessible(page, f"{self.prefix} {name}")  # every state worth a screenshot is checked (issue 14)
        return path


@pytest.fixture
def screens(request: pytest.FixtureRequest) -> Screens:
    return Screens(request.node.name.removeprefix("test_").replace("_", "-")[:60])


# Assertions wait as long as actions do: a face verification or a signature can take seconds on a busy 2-core box.
expect.set_options(timeout=20_000)


def new_page(browser: Browser, base_url: str, viewport: dict[str, int]) -> tuple[BrowserContext, Page]:
    """A fresh context (its own sessionStorage: one person) with failures of the page made loud."""
    context = browser.new_context(base_url=base_url, viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(20_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors  # type: ignore[attr-defined]
    return context, page
