//! One headless Chromium session over WebDriver, with the steps a clerk takes (visit, fill,
//! choose, press) and a full-page screenshot after every page it reaches.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::processes::Chromedriver;

/// Chromium's arguments: headless, no sandbox (CI runs as root), a fixed desktop window.
const CHROMIUM_ARGS: [&str; 5] = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--window-size=1280,900",
];

/// From any element: the first submit button of the form around it.
const SUBMIT_BUTTON: &str = "./ancestor-or-self::form[1]//*[self::button[not(@type) or @type='submit'] \
     or self::input[@type='submit']]";

/// How long an element may take to appear after a page was asked for.
const FIND_LIMIT: Duration = Duration::from_secs(20);

/// A browser session: its own profile, so a second one shares no cookies with the first.
pub(crate) struct Browser {
    client: Client,
    base: String,
    shots: Shots,
}

impl Browser {
    /// A new WebDriver session on `driver` for the server at `base`, saving screenshots with
    /// `shots` (shared by every session of one test, so their numbers follow each other).
    pub(crate) async fn open(driver: &Chromedriver, base: &str, shots: Shots) -> Browser {
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), json!("chrome"));
        capabilities.insert("goog:chromeOptions".into(), json!({ "args": CHROMIUM_ARGS }));
        // A confirmation before a POST (`data-confirm`) is answered yes, as the clerk would.
        capabilities.insert("unhandledPromptBehavior".into(), json!("accept"));
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&driver.url)
            .await
            .unwrap_or_else(|err| panic!("starting a Chromium session: {err}"));
        Browser { client, base: base.to_owned(), shots }
    }

    /// Ends the session; Chromium quits.
    pub(crate) async fn close(self) {
        let _ = self.client.close().await;
    }

    /// Opens `path` (relative to the server, or a full URL) and screenshots it as `page`.
    pub(crate) async fn visit(&mut self, path: &str, page: &str) {
        let url = if path.starts_with("http") { path.to_owned() } else { self.base.clone() + path };
        self.client.goto(&url).await.unwrap_or_else(|err| panic!("opening {url}: {err}"));
        self.shot(page).await;
    }

    /// The path of the page shown now, without its query.
    pub(crate) async fn path(&self) -> String {
        self.client.current_url().await.expect("current URL").path().to_owned()
    }

    /// The query of the page shown now (empty without one).
    pub(crate) async fn query(&self) -> String {
        let url = self.client.current_url().await.expect("current URL");
        url.query().unwrap_or_default().to_owned()
    }

    /// The HTTP status of the document shown now (Navigation Timing's `responseStatus`).
    pub(crate) async fn status(&self) -> u16 {
        let status = self
            .script("return performance.getEntriesByType('navigation')[0].responseStatus;")
            .await;
        status.as_u64().and_then(|s| u16::try_from(s).ok()).expect("a response status")
    }

    /// The visible text of the whole page.
    pub(crate) async fn text(&self) -> String {
        self.find("body").await.text().await.expect("page text")
    }

    /// The first element matching `css`, waiting for it to appear.
    pub(crate) async fn find(&self, css: &str) -> Element {
        match self.client.wait().at_most(FIND_LIMIT).for_element(Locator::Css(css)).await {
            Ok(element) => element,
            Err(err) => {
                let url = self.client.current_url().await.map(|u| u.to_string());
                panic!("no element {css} on {}: {err}", url.unwrap_or_default())
            }
        }
    }

    /// Every element matching `css` on the page now.
    pub(crate) async fn find_all(&self, css: &str) -> Vec<Element> {
        self.client.find_all(Locator::Css(css)).await.expect("find elements")
    }

    /// The `data-value` of the first element matching `css`.
    pub(crate) async fn value(&self, css: &str) -> String {
        data_value(&self.find(css).await).await
    }

    /// Types `text` into the field named `name` (a text input, a text area or a select).
    pub(crate) async fn fill(&self, name: &str, text: &str) {
        let field = self.find(&format!("[name='{name}']")).await;
        let tag = field.tag_name().await.expect("tag name").to_lowercase();
        if tag == "select" {
            field
                .select_by_value(text)
                .await
                .unwrap_or_else(|err| panic!("no option {text:?} in the select {name}: {err}"));
        } else {
            field.clear().await.unwrap_or_else(|err| panic!("clearing {name}: {err}"));
            field.send_keys(text).await.unwrap_or_else(|err| panic!("typing into {name}: {err}"));
        }
    }

    /// Picks `value` for the choice `name`: its radio button, or its option in a select.
    pub(crate) async fn choose(&self, name: &str, value: &str) {
        let field = self.find(&format!("[name='{name}']")).await;
        if field.tag_name().await.expect("tag name").eq_ignore_ascii_case("select") {
            self.fill(name, value).await;
            return;
        }
        let css = format!("input[type=radio][name='{name}'][value='{value}']");
        self.find(&css).await.click().await.unwrap_or_else(|err| panic!("clicking {css}: {err}"));
    }

    /// Presses the first submit button of the form holding the element `inside`, waits for
    /// the next page and screenshots it as `page`.
    pub(crate) async fn submit(&mut self, inside: &str, page: &str) {
        let button =
            self.find(inside).await.find(Locator::XPath(SUBMIT_BUTTON)).await.unwrap_or_else(
                |err| panic!("no form with a submit button around {inside}: {err}"),
            );
        self.press(button, page).await;
    }

    /// Clicks `element` (a link or a button), waits for the next page and screenshots it.
    pub(crate) async fn press(&mut self, element: Element, page: &str) {
        let before = self.client.current_url().await.ok();
        let marker = self.mark_page().await;
        element.click().await.unwrap_or_else(|err| panic!("clicking for {page}: {err}"));
        self.wait_for_new_page(&marker, before).await;
        self.shot(page).await;
    }

    /// Clicks the first element matching `css`; see [`Browser::press`].
    pub(crate) async fn click(&mut self, css: &str, page: &str) {
        let element = self.find(css).await;
        self.press(element, page).await;
    }

    /// Reloads the page and screenshots it.
    pub(crate) async fn reload(&mut self, page: &str) {
        self.client.refresh().await.expect("reload");
        self.shot(page).await;
    }

    /// Runs `script` in the page and returns what it returns.
    pub(crate) async fn script(&self, script: &str) -> Value {
        self.client
            .execute(script, Vec::new())
            .await
            .unwrap_or_else(|err| panic!("{script}: {err}"))
    }

    /// Runs `script` with `args` as its `arguments`.
    pub(crate) async fn script_with(&self, script: &str, args: Vec<Value>) -> Value {
        self.client.execute(script, args).await.unwrap_or_else(|err| panic!("{script}: {err}"))
    }

    /// Puts a marker on the current document, so that a new document can be told apart.
    async fn mark_page(&self) -> String {
        static MARKS: AtomicU32 = AtomicU32::new(0);
        let marker = format!("m{}", MARKS.fetch_add(1, Ordering::Relaxed));
        self.script(&format!("window.__settleMarker = '{marker}';")).await;
        marker
    }

    /// Waits until the document is a new one (the marker is gone) and has loaded.
    async fn wait_for_new_page(&self, marker: &str, before: Option<url::Url>) {
        let started = Instant::now();
        loop {
            let state = self
                .client
                .execute("return [window.__settleMarker || '', document.readyState];", Vec::new())
                .await;
            match state {
                Ok(Value::Array(parts))
                    if parts.first().and_then(Value::as_str) != Some(marker)
                        && parts.get(1).and_then(Value::as_str) == Some("complete") =>
                {
                    return;
                }
                // A confirmation (`confirm()`) before a POST: the clerk says yes.
                Err(_) => {
                    let _ = self.client.accept_alert().await;
                }
                Ok(_) => {}
            }
            assert!(
                started.elapsed() < FIND_LIMIT,
                "no new page after the click (still on {before:?})"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Saves a full-page screenshot of the page shown now as `<NN>-<page>.png`.
    pub(crate) async fn shot(&mut self, page: &str) {
        let png = self.full_page_png().await;
        self.shots.save(page, &png);
    }

    /// A screenshot at a phone's width (390 CSS pixels), as `<NN>-<page>.png`.
    pub(crate) async fn phone_shot(&mut self, page: &str) {
        self.cdp(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": true}),
        )
        .await;
        let png = self.full_page_png().await;
        self.cdp("Emulation.clearDeviceMetricsOverride", json!({})).await;
        self.shots.save(page, &png);
    }

    /// `Page.captureScreenshot` of the whole document, beyond the window's height.
    async fn full_page_png(&self) -> Vec<u8> {
        let metrics = self.cdp("Page.getLayoutMetrics", json!({})).await;
        let size = &metrics["cssContentSize"];
        let width = size["width"].as_f64().unwrap_or(1280.0);
        // The whole document, and never less than the window.
        let window = metrics["cssLayoutViewport"]["clientHeight"].as_f64().unwrap_or(0.0);
        let height = size["height"].as_f64().unwrap_or(900.0).max(window);
        let shot = self
            .cdp(
                "Page.captureScreenshot",
                json!({
                    "format": "png",
                    "captureBeyondViewport": true,
                    "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
                }),
            )
            .await;
        let data = shot["data"].as_str().expect("screenshot data");
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, data)
            .expect("screenshot base64")
    }

    /// One Chrome DevTools Protocol command through chromedriver's `goog/cdp/execute`.
    async fn cdp(&self, cmd: &'static str, params: Value) -> Value {
        self.client
            .issue_cmd(Cdp { cmd, params })
            .await
            .unwrap_or_else(|err| panic!("CDP {cmd}: {err}"))
    }
}

/// The `data-value` attribute of `element`.
pub(crate) async fn data_value(element: &Element) -> String {
    element.attr("data-value").await.expect("attribute").expect("a data-value attribute")
}

/// A Chrome DevTools Protocol command, sent as chromedriver's vendor extension.
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: Value,
}

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/goog/cdp/execute", session_id.unwrap_or_default()))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({ "cmd": self.cmd, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}

/// Where one test's screenshots go, `target/screenshots/<test>/`, and the next number.
#[derive(Clone)]
pub(crate) struct Shots {
    dir: PathBuf,
    next: Arc<AtomicU32>,
}

impl Shots {
    /// Empties `target/screenshots/<test>/` and numbers from 01.
    pub(crate) fn new(test: &str) -> Shots {
        let dir = target_dir().join("screenshots").join(test);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|err| panic!("{}: {err}", dir.display()));
        Shots { dir, next: Arc::new(AtomicU32::new(1)) }
    }

    fn save(&self, page: &str, png: &[u8]) {
        let number = self.next.fetch_add(1, Ordering::Relaxed);
        let path = self.dir.join(format!("{number:02}-{page}.png"));
        std::fs::write(&path, png).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    }
}

/// The workspace's target folder: `CARGO_TARGET_DIR` when set, otherwise the folder three
/// levels above this test binary (`target/debug/deps/browser-…`).
fn target_dir() -> PathBuf {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return workspace.join(dir);
    }
    let exe = std::env::current_exe().expect("test binary path");
    exe.ancestors().nth(3).map_or_else(|| workspace.join("target"), PathBuf::from)
}
