//! End-to-end: the real sign-in window shows only the identity server's
//! origin and the config's `signInOrigins`. From the identity server's own login page, script
//! and link clicks try to lead it elsewhere; each attempt is refused before any request, the
//! window stays on the login page, the main window names the refused host, and no callback
//! reaches the engine. A listed origin does load, and the window title follows it.
//!
//! No traffic leaves the machine: the remote targets (`evil.example`, TEST-NET-3
//! `203.0.113.9`, `ftp://x`) are refused by the navigation policy before WebKit resolves or
//! connects, and the loopback "elsewhere" server proves it by counting zero requests.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use dcr_tests::app::{current_state, launch, record_events, write_config};
use dcr_tests::desktop::{Desktop, ONE_WINDOW_AT_A_TIME};
use fantoccini::wd::WindowHandle;
use fantoccini::Locator;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use url::Url;

/// A loopback web server with one page, counting the connections it accepts and the HTTP
/// requests it reads on them.
struct PageServer {
    origin: String,
    connections: Arc<AtomicUsize>,
    requests: Arc<AtomicUsize>,
}

impl PageServer {
    async fn start(heading: &'static str) -> PageServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let origin = format!("http://{}", listener.local_addr().expect("addr"));
        let connections = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(AtomicUsize::new(0));
        let (accepted, read) = (connections.clone(), requests.clone());
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                accepted.fetch_add(1, Ordering::SeqCst);
                let read = read.clone();
                tokio::spawn(async move {
                    let mut request = [0u8; 4096];
                    match stream.read(&mut request).await {
                        Ok(n) if n > 0 => read.fetch_add(1, Ordering::SeqCst),
                        _ => return,
                    };
                    let body = format!(
                        "<!doctype html><html><head><title>{heading}</title></head>\
                         <body><h1 id=\"page\">{heading}</h1></body></html>"
                    );
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\n\
                         content-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(answer.as_bytes()).await;
                });
            }
        });
        PageServer {
            origin,
            connections,
            requests,
        }
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

/// The titles of the app's top-level X windows (`_NET_WM_NAME`), read from the display the way
/// a window manager would: the sign-in window's title is native, not the page's `<title>`.
async fn window_titles() -> Vec<String> {
    let tree = tokio::process::Command::new("xwininfo")
        .args(["-root", "-children"])
        .output()
        .await
        .expect("xwininfo (x11-utils) is needed to read window titles");
    let tree = String::from_utf8_lossy(&tree.stdout);
    let ids: Vec<&str> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|word| word.starts_with("0x"))
        .collect();
    let mut titles = Vec::new();
    for id in ids {
        let output = tokio::process::Command::new("xprop")
            .args(["-id", id, "-notype", "_NET_WM_NAME"])
            .env("LC_ALL", "C.UTF-8")
            .output()
            .await
            .expect("xprop (x11-utils) is needed to read window titles");
        let line = String::from_utf8_lossy(&output.stdout).into_owned();
        if let Some((_, title)) = line.split_once(" = ") {
            titles.push(title.trim().trim_matches('"').to_owned());
        }
    }
    titles
}

/// Waits until a window's title is "Sign in — …" and ends with `place`.
async fn wait_for_title(place: &str) -> String {
    let mut last = Vec::new();
    for _ in 0..100 {
        last = window_titles().await;
        if let Some(title) = last
            .iter()
            .find(|title| title.starts_with("Sign in") && title.ends_with(place))
        {
            return title.clone();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("no window title is `Sign in — …{place}`; titles: {last:?}");
}

/// The sign-in window's location: origin and path only (a query may carry state).
async fn location(desktop: &Desktop) -> String {
    let url = desktop.client.current_url().await.expect("current url");
    format!("{}{}", url.origin().ascii_serialization(), url.path())
}

/// How a target is tried: by script (`location.href = …`), or by a real click on a link the
/// test injects into the identity server's page.
#[derive(Clone, Copy, Debug)]
enum How {
    Script,
    Click,
}

/// What the user is told about a target.
#[derive(Clone, Copy, Debug)]
enum Expect<'a> {
    /// The app's policy refuses it and the main window names this place.
    Named(&'a str),
    /// WebKit refuses it itself before asking the app (a web page may not load `file:` URLs;
    /// `javascript:` URLs are not navigations), so there may be nothing to name. The window
    /// must still stay put, with nothing run and no callback.
    RefusedByWebKit(&'a str),
}

/// A script navigation the policy refuses, used to prove that an earlier attempt produced
/// no event: events arrive in order, so once this one is seen, any earlier one would be too.
const SENTINEL: (&str, &str) = ("ftp://sentinel/", "ftp://sentinel");

struct Rig<'a> {
    desktop: &'a Desktop,
    main: WindowHandle,
    sign_in: WindowHandle,
    login_page: String,
    /// How many `sign-in-refused` events the main window has seen so far.
    seen: usize,
}

impl Rig<'_> {
    async fn to_sign_in_window(&self) {
        self.switch_to(&self.sign_in, "the sign-in window closed")
            .await;
    }

    async fn to_main_window(&self) {
        self.switch_to(&self.main, "the main window is gone").await;
    }

    async fn switch_to(&self, window: &WindowHandle, gone: &str) {
        self.desktop
            .client
            .switch_to_window(window.clone())
            .await
            .expect(gone);
    }

    /// In the sign-in window: tries to leave for `target`.
    async fn go(&self, how: How, target: &str) {
        let desktop = self.desktop;
        self.to_sign_in_window().await;
        match how {
            How::Script => {
                desktop
                    .client
                    .execute(
                        "location.href = arguments[0]; return true;",
                        vec![json!(target)],
                    )
                    .await
                    .unwrap_or_else(|error| panic!("script to {target} failed: {error}"));
            }
            How::Click => {
                desktop
                    .client
                    .execute(
                        "document.getElementById('dcr-test-link')?.remove();
                         const a = document.createElement('a');
                         a.id = 'dcr-test-link'; a.href = arguments[0]; a.textContent = 'Go';
                         document.body.prepend(a); return true;",
                        vec![json!(target)],
                    )
                    .await
                    .expect("cannot inject the link");
                let link = desktop
                    .client
                    .find(Locator::Css("#dcr-test-link"))
                    .await
                    .expect("the injected link");
                // A refused navigation never finishes loading: do not wait on WebDriver for it.
                let _ = tokio::time::timeout(Duration::from_secs(10), link.click()).await;
            }
        }
    }

    /// In the main window: waits until more than `self.seen` refusals arrived and returns the
    /// new ones.
    async fn new_refusals(&mut self, context: &str) -> Vec<String> {
        self.to_main_window().await;
        for _ in 0..150 {
            let seen = self.desktop.eval("return window.__refused || [];").await;
            let seen: Vec<String> = serde_json::from_value(seen).expect("a list of hosts");
            if seen.len() > self.seen {
                let fresh = seen[self.seen..].to_vec();
                self.seen = seen.len();
                return fresh;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("{context}: no refusal reached the main window");
    }

    /// Tries `target` and checks the outcome: refused (and named, when the app decided), the
    /// window still on the login page, the app still waiting, nothing delivered to the engine.
    async fn attempt(&mut self, how: How, target: &str, expect: Expect<'_>) {
        let context = format!("{how:?} to {target}");
        self.go(how, target).await;
        let shown = match expect {
            Expect::Named(place) => {
                let fresh = self.new_refusals(&context).await;
                assert_eq!(fresh, vec![place.to_owned()], "{context}");
                place
            }
            Expect::RefusedByWebKit(place) => {
                self.go(How::Script, SENTINEL.0).await;
                let fresh = self.new_refusals(&context).await;
                let last = fresh.last().cloned().unwrap_or_default();
                assert_eq!(last, SENTINEL.1, "{context}");
                for other in &fresh[..fresh.len() - 1] {
                    assert_eq!(other, place, "{context}: an unexpected refusal");
                }
                SENTINEL.1
            }
        };
        let desktop = self.desktop;
        let text = desktop
            .wait_for_text("#progress-refused", &format!(" {shown}"))
            .await;
        assert!(
            text.starts_with("The sign-in window refused to open"),
            "{text}"
        );
        // Still waiting for the sign-in: no callback reached the engine.
        desktop
            .wait_for_text("#progress-text", "Waiting for you to sign in")
            .await;

        // The sign-in window stayed on the identity server's login page, and nothing ran there.
        self.to_sign_in_window().await;
        assert_eq!(location(desktop).await, self.login_page, "{context}");
        assert!(
            desktop.has("#password").await,
            "{context}: the form is gone"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sign_in_window_refuses_every_page_off_the_identity_server() {
    let _one = ONE_WINDOW_AT_A_TIME.lock().await;
    let idp = dcr_tests::Idp::start().await;
    let partner = PageServer::start("Partner login").await;
    let elsewhere = PageServer::start("Elsewhere").await;
    let config = write_config(&idp, json!({ "signInOrigins": [partner.origin] }));
    let desktop = launch(&config).await;
    let main = desktop.main_window().await;
    // Every `sign-in-refused` event's host, so each attempt can be awaited.
    record_events(&desktop, "sign-in-refused", "host", "__refused").await;

    desktop.click("#register").await;
    let sign_in = desktop.switch_to_other_window(&main).await;
    desktop.find("#password").await;
    let login_page = location(&desktop).await;
    let issuer = Url::parse(idp.issuer.as_str()).expect("issuer");
    let idp_place = format!("127.0.0.1:{}", issuer.port().expect("port"));
    assert!(login_page.contains(&idp_place), "{login_page}");
    wait_for_title(&idp_place).await;
    desktop.screenshot("13-sign-in-window").await;

    let mut rig = Rig {
        desktop: &desktop,
        main: main.clone(),
        sign_in: sign_in.clone(),
        login_page,
        seen: 0,
    };
    let elsewhere_page = format!("{}/steal", elsewhere.origin);
    let elsewhere_place = elsewhere.origin.as_str();
    let by_script = [
        ("file:///etc/passwd", Expect::RefusedByWebKit("file:")),
        (
            "javascript:document.body.textContent='script ran'",
            Expect::RefusedByWebKit("javascript:"),
        ),
        (
            "data:text/html,<h1>not the identity server</h1>",
            Expect::Named("data:"),
        ),
        ("ftp://x/", Expect::Named("ftp://x")),
        ("https://evil.example/", Expect::Named("evil.example")),
        ("http://203.0.113.9/", Expect::Named("http://203.0.113.9")),
        (elsewhere_page.as_str(), Expect::Named(elsewhere_place)),
        (
            "io.curity.dcrclient:/other?code=forged&state=forged",
            Expect::Named("io.curity.dcrclient:"),
        ),
    ];
    for (target, expect) in by_script {
        rig.attempt(How::Script, target, expect).await;
    }
    // Refused before WebKit even connects: not one connection reached the loopback stand-in
    // for another host.
    assert_eq!(
        elsewhere.connections(),
        0,
        "a refused page was connected to"
    );
    // A person's click on a link, not only script.
    for (target, expect) in [
        ("file:///etc/passwd", Expect::RefusedByWebKit("file:")),
        ("https://evil.example/", Expect::Named("evil.example")),
        (elsewhere_page.as_str(), Expect::Named(elsewhere_place)),
    ] {
        rig.attempt(How::Click, target, expect).await;
    }
    // Refused pages never change the title: it still names the page shown.
    wait_for_title(&idp_place).await;
    desktop.screenshot("14-sign-in-window-after-refusals").await;

    rig.to_main_window().await;
    desktop.screenshot("15-refused-host-named").await;
    assert_eq!(current_state(&desktop).await["state"], "unregistered");
    assert!(
        idp.admin_list_clients().await.is_empty(),
        "no registration happened"
    );
    // A clicked link may let WebKit open a speculative connection while the app decides, but
    // no request is ever sent on it.
    assert_eq!(elsewhere.requests(), 0, "a refused page was requested");

    // A listed origin loads, and the title names it, not the first host.
    rig.to_sign_in_window().await;
    let partner_page = format!("{}/federated", partner.origin);
    desktop
        .client
        .execute(
            "location.href = arguments[0]; return true;",
            vec![json!(partner_page)],
        )
        .await
        .expect("script");
    desktop.wait_for_text("#page", "Partner login").await;
    wait_for_title(&partner.origin).await;
    desktop
        .screenshot("16-sign-in-window-on-a-listed-origin")
        .await;
    assert!(partner.requests() >= 1);

    // Closing the window is a neutral cancel: nothing reached the engine.
    let _ = tokio::time::timeout(Duration::from_secs(10), desktop.client.close_window()).await;
    desktop.back_to_main(&main).await;
    desktop
        .wait_for_text("#notice", "Sign-in was cancelled")
        .await;
    assert_eq!(desktop.text_of("h1").await, "Register this device");
    assert_eq!(current_state(&desktop).await["state"], "unregistered");
    assert!(idp.admin_list_clients().await.is_empty());
    assert_eq!(elsewhere.requests(), 0);
    desktop.screenshot("17-refusals-then-cancelled").await;
    desktop.close().await;
}
