//! Debian's chromium, driven through chromedriver (WebDriver, with fantoccini) at a phone's
//! screen (360 x 800 CSS pixels, touch): the phone page's tests. `tools/test.sh` installs
//! both packages; without them the tests fail saying so.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

/// A DevTools command through chromedriver's `goog/cdp/execute`.
#[derive(Debug)]
struct Cdp(Value);

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or("")
        ))
    }
    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(self.0.to_string()))
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Browser {
    pub async fn start() -> Browser {
        let (driver_bin, chromium) = ("/usr/bin/chromedriver", "/usr/bin/chromium");
        for b in [driver_bin, chromium] {
            assert!(
                std::path::Path::new(b).exists(),
                "{b} is missing: tools/test.sh installs Debian's chromium and chromium-driver"
            );
        }
        let port = free_port();
        let driver = Command::new(driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let t0 = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                t0.elapsed() < Duration::from_secs(20),
                "chromedriver did not listen"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        // The flags this machine needs (no sandbox as root, no GPU) and those that keep
        // chromium from calling home on a closed network.
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--lang=zh-CN",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
                "mobileEmulation": {
                    "deviceMetrics": { "width": 360, "height": 800, "pixelRatio": 1.0, "touch": true },
                    "userAgent": "Mozilla/5.0 (Linux; Android 14; Yiping test) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Mobile Safari/537.36"
                }
            }
        });
        let caps = caps.as_object().unwrap().clone();
        let connector = hyper_util_client::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .unwrap();
        Browser {
            client,
            driver,
            _profile: profile,
        }
    }

    pub async fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.client
            .issue_cmd(Cdp(json!({ "cmd": cmd, "params": params })))
            .await
            .unwrap()
    }

    /// Let `origin` read the position, which is `(lon, lat)`.
    pub async fn place(&self, origin: &str, lon: f64, lat: f64) {
        self.cdp(
            "Browser.grantPermissions",
            json!({ "origin": origin, "permissions": ["geolocation", "notifications"] }),
        )
        .await;
        self.cdp(
            "Emulation.setGeolocationOverride",
            json!({ "latitude": lat, "longitude": lon, "accuracy": 8 }),
        )
        .await;
    }

    /// Run `script` (a function body) in the page.
    pub async fn js(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.unwrap()
    }

    /// Wait (up to `secs`) until `script` returns true; panics saying `what`.
    pub async fn until(&self, secs: u64, what: &str, script: &str) {
        let t0 = Instant::now();
        loop {
            if self.client.execute(script, vec![]).await.ok() == Some(Value::Bool(true)) {
                return;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(secs),
                "not within {secs} s: {what}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    pub async fn click(&self, css: &str) {
        let e = self
            .client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"));
        e.click().await.unwrap();
    }

    /// Choose `file` in the file input `css` (as the camera or the gallery hands it over).
    pub async fn choose(&self, css: &str, file: &std::path::Path) {
        let e = self.client.find(Locator::Css(css)).await.unwrap();
        e.send_keys(file.to_str().unwrap()).await.unwrap();
    }

    pub async fn type_in(&self, css: &str, text: &str) {
        let e = self.client.find(Locator::Css(css)).await.unwrap();
        e.send_keys(text).await.unwrap();
    }

    /// Save a screenshot to `dir/name` when `dir` is given (the README's), and check it is a
    /// 360 x 800 PNG either way.
    pub async fn shot(&self, dir: Option<&std::path::Path>, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        let d = png::Decoder::new(std::io::Cursor::new(&png))
            .read_info()
            .unwrap();
        assert_eq!((d.info().width, d.info().height), (360, 800), "{name}");
        if let Some(dir) = dir {
            std::fs::write(dir.join(name), &png).unwrap();
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        // chromium outlives its driver when a test ends without closing the session (a
        // failure): its processes are found by their own profile folder.
        let _ = Command::new("pkill")
            .arg("-f")
            .arg(self._profile.path())
            .status();
    }
}
