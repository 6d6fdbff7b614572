//! The phone page of units and grid workers, in a real browser (Debian's chromium through
//! chromedriver) against a real gateway on loopback: sign in, a dispatch arrives live,
//! accept, a photo with its GPS EXIF, the gateway stopped while the worker resolves (the
//! outbox keeps it), back: applied exactly once; a grid worker's report lands on its grid.
//! And the photo endpoints' refusals, over HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::browser::Browser;
use common::*;
use futures_util::StreamExt;
use geo::InteriorPoint;
use tokio_tungstenite::tungstenite::Message;
use yiping::gateway::config::{GatewayConfig, Role, TokenConfig};
use yiping::protocol::{
    Category, ClientMsg, Command, CommandOutcome, Event, Priority, ServerMsg, Unit, UnitKind,
    examples,
};

const GRID: &str = "321102-01-003-005";
const WORKER: &str = "worker-token-321102-01-003-005";
const OTHER_UNIT: &str = "other-unit-token";
const FAR_VIEWER: &str = "viewer-token-dantu";
const UNIT_ID: &str = "GW-321102-01-003-005";

/// A point inside the demo city's grid `GRID`.
fn grid_point() -> (f64, f64) {
    let layer = yiping::gis::read_layer(std::path::Path::new("assets/city/grids.geojson")).unwrap();
    let f = layer.iter().find(|f| f.prop("id") == GRID).unwrap();
    let p = f.to_geo().interior_point().unwrap();
    (p.x(), p.y())
}

fn config(dir: &tempfile::TempDir) -> GatewayConfig {
    let mut cfg = common::config(dir);
    cfg.area.grids = Some("assets/city/grids.geojson".into());
    let mut worker = TokenConfig::new(WORKER, Role::Unit, "网格员 李娜");
    worker.unit = Some(UNIT_ID.into());
    let mut other = TokenConfig::new(OTHER_UNIT, Role::Unit, "别的单位");
    other.unit = Some("U-321111-police".into());
    let mut far = TokenConfig::new(FAR_VIEWER, Role::Viewer, "丹徒区大屏");
    far.region = "321112".into();
    cfg.tokens.extend([worker, other, far]);
    cfg
}

/// Start on `cfg`, retrying while the ports of a gateway just stopped are still held.
async fn start_on(cfg: GatewayConfig) -> yiping::gateway::GatewayHandle {
    let t0 = Instant::now();
    loop {
        match yiping::gateway::start(cfg.clone()).await {
            Ok(g) => return g,
            Err(e) if t0.elapsed() < Duration::from_secs(10) => {
                eprintln!("restart: {e}; again");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("{e}"),
        }
    }
}

fn worker_unit((lon, lat): (f64, f64)) -> Unit {
    Unit {
        id: UNIT_ID.into(),
        name: "网格员 李娜（大港三社区5网格）".into(),
        kind: UnitKind::GridWorker,
        area: GRID.into(),
        categories: Category::ALL.to_vec(),
        lon,
        lat,
        on_duty: true,
        phone: String::new(),
    }
}

/// A drawn scene, as a photo from the phone would show one: grey asphalt, a kerb, an open
/// manhole and an orange cone beside it.
fn scene() -> image::RgbImage {
    image::RgbImage::from_fn(1200, 900, |x, y| {
        let (fx, fy) = (x as f32, y as f32);
        // Asphalt with a grain, a lighter pavement at the top, a kerb between.
        let grain = ((x.wrapping_mul(73) ^ y.wrapping_mul(151)) % 23) as u8;
        let mut c = if y < 260 {
            [172 + grain, 168 + grain, 160 + grain]
        } else if y < 290 {
            [205, 205, 200]
        } else {
            [88 + grain, 90 + grain, 94 + grain]
        };
        let (dx, dy) = ((fx - 560.0) / 190.0, (fy - 600.0) / 80.0);
        let d = dx * dx + dy * dy;
        if d < 1.0 {
            c = if d < 0.78 { [14, 12, 12] } else { [60, 58, 55] };
        }
        // The cone: a triangle with a white band, on a square base.
        let (cx, top, base) = (900.0, 380.0, 700.0);
        let half = (fy - top) / (base - top) * 70.0;
        if fy > top && fy < base && (fx - cx).abs() < half {
            c = if (520.0..570.0).contains(&fy) {
                [245, 245, 240]
            } else {
                [240, 110, 20]
            };
        }
        if fy >= base && fy < base + 24.0 && (fx - cx).abs() < 100.0 {
            c = [200, 80, 15];
        }
        image::Rgb(c)
    })
}

/// A JPEG of the scene whose APP1 carries EXIF with a GPS position (32°12'34.56"N
/// 119°27'12.34"E).
fn jpeg_with_gps() -> Vec<u8> {
    let img = scene();
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)
        .encode_image(&img)
        .unwrap();
    let mut t: Vec<u8> = b"II*\0".to_vec();
    t.extend(8u32.to_le_bytes());
    // IFD0: one entry, the GPS IFD's offset (26).
    t.extend(1u16.to_le_bytes());
    t.extend(0x8825u16.to_le_bytes());
    t.extend(4u16.to_le_bytes());
    t.extend(1u32.to_le_bytes());
    t.extend(26u32.to_le_bytes());
    t.extend(0u32.to_le_bytes());
    // The GPS IFD: N, latitude, E, longitude; the rationals after it (at 80).
    let entry = |t: &mut Vec<u8>, tag: u16, kind: u16, n: u32, v: [u8; 4]| {
        t.extend(tag.to_le_bytes());
        t.extend(kind.to_le_bytes());
        t.extend(n.to_le_bytes());
        t.extend(v);
    };
    t.extend(4u16.to_le_bytes());
    entry(&mut t, 1, 2, 2, *b"N\0\0\0");
    entry(&mut t, 2, 5, 3, 80u32.to_le_bytes());
    entry(&mut t, 3, 2, 2, *b"E\0\0\0");
    entry(&mut t, 4, 5, 3, 104u32.to_le_bytes());
    t.extend(0u32.to_le_bytes());
    for (a, b) in [
        (32, 1),
        (12, 1),
        (3456, 100),
        (119, 1),
        (27, 1),
        (1234, 100),
    ] {
        t.extend((a as u32).to_le_bytes());
        t.extend((b as u32).to_le_bytes());
    }
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(t);
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend(((app1.len() + 2) as u16).to_be_bytes());
    out.extend(app1);
    out.extend(&jpeg[2..]);
    out
}

fn has_exif(jpeg: &[u8]) -> bool {
    jpeg.windows(6).any(|w| w == b"Exif\0\0") || jpeg.windows(2).any(|w| w == [0xFF, 0xE1])
}

/// The next delta on `ws` whose event `pick` takes, within 30 s.
async fn wait_delta<T>(ws: &mut Ws, mut pick: impl FnMut(&Event) -> Option<T>) -> T {
    let find = async {
        loop {
            if let ServerMsg::Delta { event, .. } = next_real(ws).await
                && let Some(t) = pick(&event)
            {
                return t;
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(30), find)
        .await
        .expect("the delta within 30 s")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grid_worker_takes_a_task_photographs_it_and_resolves_it_offline_on_the_phone() {
    let shots = std::env::var_os("YIPING_PHONE_SHOTS").map(std::path::PathBuf::from);
    let shots = shots.as_deref();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&dir);
    let g = start_on(cfg.clone()).await;
    // The restart below comes back on the same ports (the page knows only those).
    cfg.listen = g.ws_addr;
    cfg.http_listen = g.http_addr;
    let here = grid_point();
    let mut admin = connect(&g, ADMIN, None).await;
    snapshot(&mut admin).await;
    ok(
        &mut admin,
        "unit",
        Command::UpsertUnit {
            unit: worker_unit(here),
        },
    )
    .await;
    let mut op = connect(&g, OP, None).await;
    snapshot(&mut op).await;

    let b = Browser::start().await;
    let origin = format!("http://{}", g.http_addr);
    b.place(&origin, here.0, here.1).await;
    // The QR code's link: the token after '#t='.
    b.client
        .goto(&format!("{origin}/m/#t={WORKER}"))
        .await
        .unwrap();
    b.until(
        20,
        "the page says it is online",
        "return document.querySelector('#net').textContent === '在线'",
    )
    .await;
    b.until(
        5,
        "the token left the address bar",
        "return location.hash === ''",
    )
    .await;

    // A dispatch from the wall side reaches the open page.
    let mut t = examples::new_ticket();
    (t.lon, t.lat, t.grid) = (here.0, here.1, GRID.into());
    t.title = "大港三社区5号楼东侧窨井盖缺失".into();
    t.content = "居民来电：5号楼东侧人行道上窨井盖缺失，夜间无照明，老人小孩经过危险。".into();
    t.address = "大港街道三社区5号楼东侧".into();
    t.priority = Priority::Urgent;
    let id = ok(&mut op, "in-1", Command::Intake { ticket: t })
        .await
        .unwrap();
    ok(
        &mut op,
        "dispatch-1",
        Command::Dispatch {
            ticket: id,
            unit: UNIT_ID.into(),
        },
    )
    .await;
    let sent = Instant::now();
    b.until(
        5,
        "the dispatched ticket shows",
        &format!("return !!document.querySelector('#t-{id}')"),
    )
    .await;
    let took = sent.elapsed();
    println!(
        "a dispatch reached the open page in {} ms",
        took.as_millis()
    );
    assert!(took < Duration::from_secs(1), "{took:?}");
    b.shot(shots, "phone-tasks.png").await;

    // Open it, accept it.
    b.click(&format!("#t-{id}")).await;
    b.until(
        5,
        "the task opens",
        "return !!document.querySelector('[data-act=accept]')",
    )
    .await;
    b.shot(shots, "phone-task.png").await;
    b.click("[data-act=accept]").await;
    b.click("[data-submit=accept]").await;
    let status = |s: &str| {
        format!("const t = window.yiping.state.tickets.get({id}); return !!t && t.status === '{s}'")
    };
    b.until(10, "accepted, as the gateway says", &status("accepted"))
        .await;

    // A progress note with a photo that carries its GPS position in EXIF.
    let exif = dir.path().join("scene.jpg");
    let raw = jpeg_with_gps();
    assert!(has_exif(&raw));
    std::fs::write(&exif, &raw).unwrap();
    b.click("[data-act=progress]").await;
    b.type_in("#words", "已到现场，设置围挡，通知市政养护。")
        .await;
    b.choose("input[data-slot=before]", &exif).await;
    b.until(
        10,
        "the photo shows in its slot",
        "return document.querySelectorAll('.shot img').length === 1",
    )
    .await;
    b.shot(shots, "phone-photo.png").await;
    b.click("[data-submit=progress]").await;
    b.until(20, "the photo is on the ticket", &format!(
        "const t = window.yiping.state.tickets.get({id}); return !!t && !!t.work && (t.work.photos || []).length === 1"
    ))
    .await;

    // The gateway goes away; the worker resolves with an after photo; the outbox keeps it.
    g.shutdown().await;
    b.until(
        15,
        "the page says it is offline",
        "return document.querySelector('#net').textContent !== '在线'",
    )
    .await;
    b.click("[data-act=resolve]").await;
    b.type_in("#words", "已补装井盖并恢复照明，现场清理完毕。")
        .await;
    b.choose("input[data-slot=after]", &exif).await;
    b.until(
        10,
        "the after photo shows",
        "return document.querySelectorAll('.shot img').length === 1",
    )
    .await;
    b.click("[data-submit=resolve]").await;
    b.click("#back").await;
    b.click("[data-tab=outbox]").await;
    b.until(10, "the resolution waits in the outbox", "return document.querySelector('.ob') !== null && document.querySelector('.ob').textContent.includes('办结')")
        .await;
    b.shot(shots, "phone-outbox.png").await;

    // Back: the page reconnects and the outbox sends; the gateway applies it once.
    let g = start_on(cfg.clone()).await;
    let mut op = connect(&g, OP, None).await;
    snapshot(&mut op).await;
    b.until(
        60,
        "resolved (under review), as the gateway says",
        &status("reviewing"),
    )
    .await;
    b.until(
        10,
        "the outbox is empty",
        "return document.querySelector('#pending').hidden",
    )
    .await;
    say(&mut op, &ClientMsg::AuditQuery { ticket: id }).await;
    let entries = loop {
        if let ServerMsg::Audit { entries, .. } = next_real(&mut op).await {
            break entries;
        }
    };
    let resolves: Vec<_> = entries
        .iter()
        .filter(|e| e.action.as_str() == "resolve")
        .collect();
    assert_eq!(resolves.len(), 1, "{entries:?}");
    let mark = resolves[0]
        .field
        .as_ref()
        .expect("the resolution's field mark");
    let pos = mark.pos.expect("the phone's position");
    assert!((pos.lon - here.0).abs() < 1e-6 && (pos.lat - here.1).abs() < 1e-6);
    assert_eq!(mark.photos.len(), 1);

    // The wall's mirror holds both photos; the stored one has no EXIF.
    let mut wall = connect(&g, VIEW, None).await;
    let mut mirror = yiping::feed::Mirror::default();
    loop {
        let m = next_real(&mut wall).await;
        let last = matches!(&m, ServerMsg::Snapshot(s) if s.last);
        mirror.take(m);
        if last {
            break;
        }
    }
    let photos = mirror.tickets.get(&id).unwrap().work.photos.clone();
    assert_eq!(photos.len(), 2, "{photos:?}");
    assert_eq!(photos[1].id, mark.photos[0].id);
    let path = format!("/api/photos/{}?ticket={id}", photos[0].id);
    let (status, stored) = http_bytes(g.http_addr, ("GET", &path), OP, "text/plain", b"").await;
    assert_eq!(status, 200);
    assert!(image::load_from_memory(&stored).is_ok());
    assert!(!has_exif(&stored), "the stored photo keeps its EXIF");
    // Another district's wall and another unit cannot fetch it.
    for token in [FAR_VIEWER, OTHER_UNIT] {
        let (status, _) = http_bytes(g.http_addr, ("GET", &path), token, "text/plain", b"").await;
        assert_eq!(status, 403, "{token}");
    }

    // The wall, as a duty officer sees it: the review board, the ticket with its photos
    // and where the worker stood, the worker's phone live on the map.
    if let Some(dir) = shots {
        let out = dir.join("wall-field-1080p.png");
        let status = std::process::Command::new("xvfb-run")
            .args([
                "-a",
                "-s",
                "-screen 0 1920x1080x24",
                env!("CARGO_BIN_EXE_yiping"),
                "wall",
            ])
            .args(["--feed", &format!("ws://{}", g.ws_addr), "--token", OP])
            .args(["--http", &format!("http://{}", g.http_addr)])
            .args([
                "--board",
                "review",
                "--select-top",
                "--focus",
                "321102-01-003",
            ])
            .args(["--frames", "60", "--screenshot"])
            .arg(&out)
            .env("WGPU_BACKEND", "vulkan")
            .status()
            .unwrap();
        assert!(status.success() && out.exists());
    }

    // A grid worker's report from where it stands lands on its grid.
    b.click("[data-tab=report]").await;
    b.until(
        10,
        "the position is known",
        "return !!window.yiping.state.pos",
    )
    .await;
    b.type_in("#words", "三社区菜场门口占道经营，堵塞消防通道。")
        .await;
    b.click("[data-submit=report]").await;
    let (grid, channel) = wait_delta(&mut op, |e| match e {
        Event::TicketCreated { ticket, .. } => Some((ticket.grid.clone(), ticket.channel)),
        _ => None,
    })
    .await;
    assert_eq!(grid, GRID);
    assert_eq!(channel, yiping::protocol::Channel::GridApp);
    let _ = b.client.clone().close().await;
    g.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn photos_are_decoded_before_they_are_kept_and_anything_else_is_refused_with_a_code() {
    let dir = tempfile::tempdir().unwrap();
    let g = start_on(config(&dir)).await;
    let up = |body: Vec<u8>| {
        let addr = g.http_addr;
        async move {
            let (s, b) =
                http_bytes(addr, ("POST", "/api/photos"), WORKER, "image/jpeg", &body).await;
            (
                s,
                serde_json::from_slice::<serde_json::Value>(&b).unwrap_or_default(),
            )
        }
    };
    // 20 MB: over the limit as it comes.
    let (s, b) = up(vec![0xFF; 20 << 20]).await;
    assert_eq!((s, b["code"].as_str()), (413, Some("too_large")), "{b}");
    // A PDF named .jpg and sent as image/jpeg.
    let (s, b) =
        up(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<</Type/Catalog>>endobj\n".to_vec()).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (415, Some("unsupported_image")),
        "{b}"
    );
    // A decompression bomb: a 100,000 x 100,000 PNG of a few hundred bytes.
    let bomb = {
        use std::io::Write;
        let mut z = Vec::new();
        let mut e = flate2_free_zlib(&mut z);
        e.write_all(&[0u8; 256]).unwrap();
        drop(e);
        png_with(100_000, 100_000, &z)
    };
    assert!(bomb.len() < 1000);
    let (s, b) = up(bomb).await;
    assert_eq!(
        (s, b["code"].as_str()),
        (413, Some("image_too_large")),
        "{b}"
    );
    // A photo: kept under its hash, its EXIF gone; the same bytes again, the same id.
    let (s, b) = up(jpeg_with_gps()).await;
    assert_eq!(s, 201, "{b}");
    let id = b["id"].as_str().unwrap().to_string();
    let (s2, b2) = up(jpeg_with_gps()).await;
    assert_eq!((s2, b2["id"].as_str()), (201, Some(id.as_str())));
    // The uploader reads it back before any action names it; no one else does.
    let path = format!("/api/photos/{id}");
    let (s, bytes) = http_bytes(g.http_addr, ("GET", &path), WORKER, "text/plain", b"").await;
    assert_eq!(s, 200);
    assert!(!has_exif(&bytes));
    let (s, _) = http_bytes(g.http_addr, ("GET", &path), OP, "text/plain", b"").await;
    assert_eq!(s, 403);
    // An action naming a photo never stored is refused, and changes nothing.
    let body = serde_json::json!({
        "key": "k1",
        "command": { "op": "progress", "ticket": 1, "note": "x" },
        "field": { "at_ms": yiping::domain::time::now_ms(), "photos": [{ "id": "0".repeat(64), "slot": "before" }] }
    });
    let (s, b) = http(
        g.http_addr,
        "POST",
        "/api/commands",
        WORKER,
        &body.to_string(),
    )
    .await;
    assert_eq!(s, 422, "{b}");
    assert!(b.contains("unknown_photo"), "{b}");
    // Malformed, an unknown field, a key twice in one object: 400 bad_message.
    for bad in [
        "{\"key\": \"k2\", \"command\":",
        "{\"key\": \"k2\", \"command\": {\"op\": \"progress\", \"ticket\": 1, \"note\": \"x\"}, \"colour\": 1}",
        "{\"key\": \"k2\", \"key\": \"k3\", \"command\": {\"op\": \"progress\", \"ticket\": 1, \"note\": \"x\"}}",
    ] {
        let (s, b) = http(g.http_addr, "POST", "/api/commands", WORKER, bad).await;
        assert_eq!(s, 400, "{bad}: {b}");
        assert!(b.contains("bad_message"), "{b}");
    }
    // A report sent twice under one key (an outbox that lost the answer): one ticket.
    let mut t = examples::new_ticket();
    (t.lon, t.lat, t.grid) = (grid_point().0, grid_point().1, String::new());
    let mut admin = connect(&g, ADMIN, None).await;
    snapshot(&mut admin).await;
    ok(
        &mut admin,
        "unit",
        Command::UpsertUnit {
            unit: worker_unit(grid_point()),
        },
    )
    .await;
    let report =
        serde_json::json!({ "key": "m-report-1", "command": { "op": "intake", "ticket": t } });
    let first = http(
        g.http_addr,
        "POST",
        "/api/commands",
        WORKER,
        &report.to_string(),
    )
    .await;
    let again = http(
        g.http_addr,
        "POST",
        "/api/commands",
        WORKER,
        &report.to_string(),
    )
    .await;
    assert_eq!(first.0, 200, "{}", first.1);
    assert_eq!(first, again, "a repeat answers the first outcome");
    let (_, _, n) = snapshot(&mut connect(&g, VIEW, None).await).await;
    assert_eq!(n, 1);
    g.shutdown().await;
}

/// A PNG header declaring `w` x `h` grey pixels, with `idat` as its only data.
fn png_with(w: u32, h: u32, idat: &[u8]) -> Vec<u8> {
    let chunk = |out: &mut Vec<u8>, kind: &[u8], data: &[u8]| {
        out.extend((data.len() as u32).to_be_bytes());
        let mut c = kind.to_vec();
        c.extend(data);
        out.extend(&c);
        out.extend(crc32(&c).to_be_bytes());
    };
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 0, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", idat);
    chunk(&mut out, b"IEND", &[]);
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for &b in bytes {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// zlib's stored (uncompressed) form: enough for a test's few kilobytes.
fn flate2_free_zlib(out: &mut Vec<u8>) -> impl std::io::Write + '_ {
    struct Stored<'a>(&'a mut Vec<u8>, Vec<u8>);
    impl std::io::Write for Stored<'_> {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.1.extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    impl Drop for Stored<'_> {
        fn drop(&mut self) {
            let data = std::mem::take(&mut self.1);
            self.0.extend([0x78, 0x01]);
            let n = data.len() as u16;
            self.0.push(1);
            self.0.extend(n.to_le_bytes());
            self.0.extend((!n).to_le_bytes());
            self.0.extend(&data);
            let (mut a, mut b) = (1u32, 0u32);
            for &x in &data {
                a = (a + u32::from(x)) % 65521;
                b = (b + a) % 65521;
            }
            self.0.extend(((b << 16) | a).to_be_bytes());
        }
    }
    Stored(out, Vec::new())
}

/// A phone's feed is its unit's own tickets: its snapshot, the deltas of those, of one
/// that leaves it (so it drops it), no one else's and no figures; it resumes from the
/// window with only what concerns it. Walls see the unit live while its page is open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_sees_its_units_tickets_only_and_resumes_without_a_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let g = start_on(config(&dir)).await;
    let here = grid_point();
    let mut admin = connect(&g, ADMIN, None).await;
    snapshot(&mut admin).await;
    ok(
        &mut admin,
        "unit",
        Command::UpsertUnit {
            unit: worker_unit(here),
        },
    )
    .await;
    let mut other = examples::unit();
    other.id = "U-321111-police".into();
    other.area = String::new();
    ok(&mut admin, "unit-2", Command::UpsertUnit { unit: other }).await;
    let mut op = connect(&g, OP, None).await;
    snapshot(&mut op).await;
    let mut ids = vec![];
    for k in 0..3 {
        let mut t = examples::new_ticket();
        (t.lon, t.lat, t.grid) = (here.0, here.1, GRID.into());
        ids.push(
            ok(&mut op, &format!("in-{k}"), Command::Intake { ticket: t })
                .await
                .unwrap(),
        );
    }
    let dispatch = |t: u64, u: &str| Command::Dispatch {
        ticket: t,
        unit: u.into(),
    };
    ok(&mut op, "d0", dispatch(ids[0], UNIT_ID)).await;
    ok(&mut op, "d1", dispatch(ids[1], "U-321111-police")).await;

    let mut phone = connect(&g, WORKER, None).await;
    let ServerMsg::Snapshot(s) = next_real(&mut phone).await else {
        panic!("a snapshot first")
    };
    assert!(s.last && s.warnings.is_empty());
    assert_eq!(
        s.tickets.iter().map(|t| t.id).collect::<Vec<_>>(),
        vec![ids[0]]
    );
    assert_eq!(
        s.units.iter().map(|u| u.id.as_str()).collect::<Vec<_>>(),
        vec![UNIT_ID]
    );
    // A wall sees the unit's page open.
    let mut wall = connect(&g, VIEW, None).await;
    let live = loop {
        if let ServerMsg::Live { units } = next(&mut wall).await {
            break units;
        }
    };
    assert_eq!(
        live.iter().map(|l| l.unit.as_str()).collect::<Vec<_>>(),
        vec![UNIT_ID]
    );

    // A new dispatch to it arrives; another unit's does not.
    ok(&mut op, "d2", dispatch(ids[2], UNIT_ID)).await;
    let got = wait_delta(&mut phone, |e| e.ticket().map(|t| (t.id, t.unit.clone()))).await;
    assert_eq!(got, (ids[2], Some(UNIT_ID.into())));
    // Its heartbeats come without figures, and one in 15 beats (a share of the phones
    // each beat): over 3 s a phone hears at most one, where a wall hears three.
    let mut beats = 0;
    let t = std::time::Instant::now();
    while t.elapsed() < Duration::from_secs(3) {
        match tokio::time::timeout(Duration::from_millis(500), phone.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => match serde_json::from_str(&text).unwrap() {
                ServerMsg::Heartbeat { .. } => beats += 1,
                ServerMsg::Kpis { .. } | ServerMsg::Live { .. } => {
                    panic!("a phone gets no figures")
                }
                ServerMsg::Delta { .. } => {}
                m => panic!("{m:?}"),
            },
            Ok(Some(Ok(_))) | Err(_) => {}
            other => panic!("{other:?}"),
        }
    }
    assert!(beats <= 1, "{beats} heartbeats in 3 s");
    // A phone that resumes with nothing missed hears at once that it is live.
    let seq = g.status.seq.load(std::sync::atomic::Ordering::Relaxed);
    let mut again = connect(
        &g,
        WORKER,
        Some(yiping::protocol::Resume {
            epoch: g.epoch.clone(),
            seq,
        }),
    )
    .await;
    assert!(matches!(
        next(&mut again).await,
        ServerMsg::Heartbeat { .. }
    ));
    drop(again);
    // It gives one back: the delta that takes it off the phone comes too.
    let mut worker = connect(&g, WORKER, None).await;
    let _ = next_real(&mut worker).await;
    let r = run(
        &mut worker,
        cmd(
            "ret",
            Command::Return {
                ticket: ids[0],
                reason: "不属本网格".into(),
            },
        ),
    )
    .await;
    assert!(matches!(r.1, CommandOutcome::Ok { .. }), "{r:?}");
    let (id, unit, epoch, seq) = loop {
        if let ServerMsg::Delta {
            event, epoch, seq, ..
        } = next_real(&mut phone).await
            && let Some(t) = event.ticket()
        {
            break (t.id, t.unit.clone(), epoch, seq);
        }
    };
    assert_eq!((id, unit), (ids[0], None));
    // Gone a while: another unit's change and its own ticket moved away meanwhile.
    drop(phone);
    ok(&mut op, "d1b", dispatch(ids[1], "U-321111-police")).await;
    ok(&mut op, "d2b", dispatch(ids[2], "U-321111-police")).await;
    let mut phone = connect(&g, WORKER, Some(yiping::protocol::Resume { epoch, seq })).await;
    match next_real(&mut phone).await {
        ServerMsg::Delta { event, .. } => {
            let t = event.ticket().unwrap();
            assert_eq!((t.id, t.unit.as_deref()), (ids[2], Some("U-321111-police")));
        }
        m => panic!("a resume, not {m:?}"),
    }
    g.shutdown().await;
}
