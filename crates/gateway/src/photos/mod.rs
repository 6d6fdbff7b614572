//! Photos from the field, stored under their content address: in a folder beside the
//! SQLite file (`<database stem>-photos/ab/<id>.jpg`), or in a cluster in JetStream's
//! object store (bucket `yiping_photos`), so that any node serves any photo. A photo is
//! served to the credential that uploaded it, and to those whose scope covers a ticket
//! that names it (`http::photos`).

pub mod ingest;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_nats::jetstream;
use async_nats::jetstream::object_store::{self, ObjectStore};
use tokio::io::AsyncReadExt;

pub use ingest::{Ingested, Refused, ingest};

/// The object store's bucket.
pub const BUCKET: &str = "yiping_photos";

/// How long an upload not yet named by any action stays readable by its uploader alone.
const PENDING_FOR: Duration = Duration::from_secs(24 * 3600);

enum Backend {
    Disk(PathBuf),
    /// Boxed: the store's handle is over a kilobyte, held once.
    Nats(Box<ObjectStore>),
}

pub struct Photos {
    backend: Backend,
    /// Uploads by credential id, for reading one back before an action names it.
    pending: Mutex<HashMap<String, (String, Instant)>>,
}

impl Photos {
    /// The folder beside a SQLite file: `city.sqlite` → `city-photos/`.
    pub fn beside(database: &Path) -> PathBuf {
        let stem = database
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "yiping".into());
        database.with_file_name(format!("{stem}-photos"))
    }

    pub fn disk(dir: PathBuf) -> std::io::Result<Photos> {
        std::fs::create_dir_all(&dir)?;
        Ok(Photos::with(Backend::Disk(dir)))
    }

    /// The cluster's bucket, made if it is not there yet.
    pub async fn nats(js: &jetstream::Context) -> Result<Photos, String> {
        let store = match js.get_object_store(BUCKET).await {
            Ok(s) => s,
            Err(_) => js
                .create_object_store(object_store::Config {
                    bucket: BUCKET.into(),
                    description: Some("一屏 photos from the field, by SHA-256".into()),
                    ..Default::default()
                })
                .await
                .map_err(|e| format!("the photos' object store {BUCKET}: {e}"))?,
        };
        Ok(Photos::with(Backend::Nats(Box::new(store))))
    }

    fn with(backend: Backend) -> Photos {
        Photos {
            backend,
            pending: Mutex::new(HashMap::new()),
        }
    }

    /// Keep a photo and its thumbnail (a photo already kept is left as it is).
    pub async fn put(&self, p: &Ingested) -> std::io::Result<()> {
        match &self.backend {
            Backend::Disk(dir) => {
                let (main, thumb) = (path(dir, &p.id, false), path(dir, &p.id, true));
                let (jpeg, small) = (p.jpeg.clone(), p.thumb.clone());
                tokio::task::spawn_blocking(move || {
                    write_once(&thumb, &small)?;
                    write_once(&main, &jpeg)
                })
                .await
                .map_err(std::io::Error::other)?
            }
            Backend::Nats(store) => {
                for (name, bytes) in [(thumb_name(&p.id), &p.thumb), (p.id.clone(), &p.jpeg)] {
                    if store.info(&name).await.is_ok() {
                        continue;
                    }
                    store
                        .put(name.as_str(), &mut &bytes[..])
                        .await
                        .map_err(std::io::Error::other)?;
                }
                Ok(())
            }
        }
    }

    /// A photo's bytes (or its thumbnail's); `None` when none is stored under `id`.
    pub async fn get(&self, id: &str, thumb: bool) -> std::io::Result<Option<Vec<u8>>> {
        if !protocol::is_photo_id(id) {
            return Ok(None);
        }
        match &self.backend {
            Backend::Disk(dir) => match tokio::fs::read(path(dir, id, thumb)).await {
                Ok(b) => Ok(Some(b)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e),
            },
            Backend::Nats(store) => {
                let name = if thumb { thumb_name(id) } else { id.into() };
                let mut object = match store.get(&name).await {
                    Ok(o) => o,
                    Err(e) if e.kind() == object_store::GetErrorKind::NotFound => {
                        return Ok(None);
                    }
                    Err(e) => return Err(std::io::Error::other(e)),
                };
                let mut out = Vec::new();
                object.read_to_end(&mut out).await?;
                Ok(Some(out))
            }
        }
    }

    /// Is a photo stored under `id`?
    pub async fn exists(&self, id: &str) -> std::io::Result<bool> {
        if !protocol::is_photo_id(id) {
            return Ok(false);
        }
        match &self.backend {
            Backend::Disk(dir) => tokio::fs::try_exists(path(dir, id, false)).await,
            Backend::Nats(store) => match store.info(id).await {
                Ok(_) => Ok(true),
                Err(e) if e.kind() == object_store::InfoErrorKind::NotFound => Ok(false),
                Err(e) => Err(std::io::Error::other(e)),
            },
        }
    }

    /// `credential` uploaded `id`: it may read it back before an action names it.
    pub fn uploaded(&self, id: &str, credential: &str) {
        if let Ok(mut p) = self.pending.lock() {
            p.retain(|_, (_, at)| at.elapsed() < PENDING_FOR);
            p.insert(id.to_string(), (credential.to_string(), Instant::now()));
        }
    }

    /// Did `credential` upload `id` (lately, on this node)?
    pub fn uploaded_by(&self, id: &str, credential: &str) -> bool {
        self.pending.lock().is_ok_and(|p| {
            p.get(id)
                .is_some_and(|(c, at)| c == credential && at.elapsed() < PENDING_FOR)
        })
    }
}

fn thumb_name(id: &str) -> String {
    format!("{id}.thumb")
}

fn path(dir: &Path, id: &str, thumb: bool) -> PathBuf {
    let file = if thumb {
        format!("{id}.thumb.jpg")
    } else {
        format!("{id}.jpg")
    };
    dir.join(&id[..2]).join(file)
}

/// Write `bytes` to `to` whole or not at all (a temporary file, synced, then renamed); a
/// file already there holds the same bytes (its name is their hash) and is left.
fn write_once(to: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    if to.exists() {
        return Ok(());
    }
    let dir = to.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{:016x}.tmp", rand::random::<u64>()));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, to)?;
    std::fs::File::open(dir)?.sync_all()
}
