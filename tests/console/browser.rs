//! A real headless Chromium for one test, driven through Debian's `chromedriver`
//! (started here on 127.0.0.1 and a free port; killed on drop).
//!
//! Every wait is bounded ([`WAIT`]); a failing test leaves a screenshot in
//! `target/console-failures/<test>.png` ([`Browser::check`]).

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use futures_util::FutureExt;
use thirtyfour::prelude::*;
use tokio::process::{Child, Command};
use tokio::time::{Instant, sleep};

/// How long any element or page is waited for.
pub const WAIT: Duration = Duration::from_secs(15);
const POLL: Duration = Duration::from_millis(50);
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

pub struct Browser {
    pub driver: WebDriver,
    pub base_url: String,
    name: String,
    // Declared last: the browser session ends before its driver process.
    _chromedriver: Child,
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

/// The repository root (screenshots go to `docs/screenshots/`, failures to `target/`).
pub fn repo_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative)
}

impl Browser {
    /// Starts chromedriver and a headless Chromium 1280×900 (UTC, English), for
    /// the server at `base_url`. `name` names the failure screenshot.
    pub async fn start(name: &str, base_url: &str) -> Browser {
        assert!(
            std::path::Path::new(CHROMEDRIVER).exists() && std::path::Path::new(CHROMIUM).exists(),
            "{CHROMIUM} and {CHROMEDRIVER} are needed (Debian packages chromium and \
             chromium-driver; scripts/test.sh installs them)"
        );
        let mut last_error = String::new();
        for _ in 0..3 {
            let port = free_port();
            let child = Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                .env("TZ", "UTC")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .expect("start chromedriver");
            let url = format!("http://127.0.0.1:{port}");
            match Self::connect(&url).await {
                Ok(driver) => {
                    return Browser {
                        driver,
                        base_url: base_url.trim_end_matches('/').to_owned(),
                        name: name.to_owned(),
                        _chromedriver: child,
                    };
                }
                Err(e) => last_error = e,
            }
        }
        panic!("could not start chromedriver and Chromium: {last_error}");
    }

    async fn connect(url: &str) -> Result<WebDriver, String> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .map_err(|e| e.to_string())?;
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(res) = http.get(format!("{url}/status")).send().await
                && res.status() == 200
            {
                break;
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "chromedriver at {url} did not answer within {WAIT:?}"
                ));
            }
            sleep(POLL).await;
        }
        let mut caps = DesiredCapabilities::chrome();
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-extensions",
            "--no-first-run",
            "--lang=en-GB",
            "--window-size=1280,900",
            "--hide-scrollbars",
        ];
        for arg in args {
            caps.add_arg(arg).map_err(|e| e.to_string())?;
        }
        caps.set_binary(CHROMIUM).map_err(|e| e.to_string())?;
        let driver = WebDriver::new(url, caps).await.map_err(|e| e.to_string())?;
        Ok(driver)
    }

    /// Runs `body`; if it panics, saves a screenshot of the page, then re-panics.
    pub async fn check<F: Future<Output = ()>>(&self, body: F) {
        if let Err(panic) = AssertUnwindSafe(body).catch_unwind().await {
            let dir = repo_path("target/console-failures");
            let _ = std::fs::create_dir_all(&dir);
            let path = dir.join(format!("{}.png", self.name));
            match self.driver.screenshot(&path).await {
                Ok(()) => eprintln!("screenshot of the failure: {}", path.display()),
                Err(e) => eprintln!("no screenshot of the failure: {e}"),
            }
            if let Ok(url) = self.driver.current_url().await {
                eprintln!("the browser was at {url}");
            }
            // End the browser session too: killing chromedriver alone would orphan Chromium.
            let _ = self.driver.clone().quit().await;
            std::panic::resume_unwind(panic);
        }
    }

    pub async fn quit(self) {
        let _ = self.driver.clone().quit().await;
    }

    pub async fn open(&self, path: &str) {
        self.driver
            .goto(format!("{}{path}", self.base_url))
            .await
            .unwrap_or_else(|e| panic!("open {path}: {e}"));
    }

    /// The first element matching `css`, waited for.
    pub async fn el(&self, css: &str) -> WebElement {
        self.driver
            .query(By::Css(css))
            .wait(WAIT, POLL)
            .first()
            .await
            .unwrap_or_else(|e| panic!("no element `{css}` within {WAIT:?}: {e}"))
    }

    /// True when an element matches `css` now (no wait).
    pub async fn exists(&self, css: &str) -> bool {
        !self
            .driver
            .find_all(By::Css(css))
            .await
            .unwrap_or_default()
            .is_empty()
    }

    pub async fn all(&self, css: &str) -> Vec<WebElement> {
        self.driver.find_all(By::Css(css)).await.unwrap_or_default()
    }

    pub async fn text(&self, css: &str) -> String {
        self.el(css).await.text().await.expect("element text")
    }

    pub async fn value(&self, css: &str) -> String {
        self.el(css)
            .await
            .value()
            .await
            .expect("element value")
            .unwrap_or_default()
    }

    pub async fn click(&self, css: &str) {
        self.el(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click `{css}`: {e}"));
    }

    /// Clears the field and types `text` into it.
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.el(css).await;
        field.clear().await.expect("clear the field");
        if !text.is_empty() {
            field.send_keys(text).await.expect("type into the field");
        }
    }

    pub async fn path(&self) -> String {
        let url = self.driver.current_url().await.expect("current URL");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// Waits until the page's path (with query) satisfies `ok`.
    pub async fn wait_for_path(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let path = self.path().await;
            if ok(&path) {
                return path;
            }
            assert!(
                Instant::now() < deadline,
                "never reached {what}; still at {path}"
            );
            sleep(POLL).await;
        }
    }

    /// Waits until the text of `css` satisfies `ok`; returns it.
    pub async fn wait_for_text(&self, css: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let text = match self.driver.find(By::Css(css)).await {
                Ok(e) => e.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if ok(&text) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "`{css}` never had the expected text; last: {text:?}"
            );
            sleep(POLL).await;
        }
    }

    /// The page's HTML as the browser holds it now.
    pub async fn source(&self) -> String {
        self.driver.source().await.expect("page source")
    }

    pub async fn sign_in(&self, user: &str, password: &str) {
        self.open("/console/signin").await;
        self.fill("#username", user).await;
        self.fill("#password", password).await;
        self.click("#sign-in").await;
        self.wait_for_path("the tenants page", |p| p.starts_with("/console/tenants"))
            .await;
    }

    /// Resizes the window (the viewport follows).
    pub async fn resize(&self, width: u32, height: u32) {
        self.driver
            .set_window_rect(0, 0, width, height)
            .await
            .expect("resize the window");
    }

    /// Saves a screenshot under `target/screenshots/`, or, with
    /// `LATCHKEY_UPDATE_SCREENSHOTS=1`, the README's copy under `docs/screenshots/` (so
    /// an ordinary test run leaves the checkout unchanged).
    pub async fn screenshot(&self, file: &str) {
        let updating = std::env::var_os("LATCHKEY_UPDATE_SCREENSHOTS").is_some_and(|v| v == "1");
        let dir = repo_path(if updating {
            "docs/screenshots"
        } else {
            "target/screenshots"
        });
        std::fs::create_dir_all(&dir).expect("create the screenshot directory");
        self.driver
            .screenshot(&dir.join(file))
            .await
            .unwrap_or_else(|e| panic!("screenshot {file}: {e}"));
    }

    /// Runs a script and returns its JSON result.
    pub async fn js(&self, script: &str) -> serde_json::Value {
        self.driver
            .execute(script, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}"))
            .json()
            .clone()
    }
}

impl Browser {
    /// Waits until the element with id `id` has the focus; returns it.
    pub async fn wait_for_focus(&self, id: &str) -> WebElement {
        let deadline = Instant::now() + WAIT;
        loop {
            let active = self
                .js("return document.activeElement && document.activeElement.id")
                .await;
            if active == id {
                return self.driver.active_element().await.expect("active element");
            }
            assert!(
                Instant::now() < deadline,
                "#{id} never got the focus (focus on {active})"
            );
            sleep(POLL).await;
        }
    }
}
