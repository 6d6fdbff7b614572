//! `yiping import-units`: a CSV of a site's units (its departments, town centers, grid
//! workers) into a gateway, as `upsert_unit` commands with an admin's token.
//!
//! Columns: `id`, `name`, `kind` (`police`, `city_management`, … as in PROTOCOL.md),
//! `area` (the region it answers for: a grid-id prefix, empty for the whole city),
//! `categories` (the categories it handles, separated by `;`), `lon`, `lat`, and optionally
//! `on_duty` (`true`/`false`, default true). Every row is checked before anything is sent.

use crate::ImportError;
use std::path::Path;

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

use protocol::{ClientMsg, Command, CommandOutcome, ServerMsg, Unit};

/// Every row of the file as a unit, or every row's problem (with its line).
pub fn read(path: &Path) -> Result<Result<Vec<Unit>, Vec<String>>, ImportError> {
    let body = std::fs::read(path).map_err(|source| ImportError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(parse(&body))
}

pub fn parse(body: &[u8]) -> Result<Vec<Unit>, Vec<String>> {
    const KNOWN: [&str; 8] = [
        "id",
        "name",
        "kind",
        "area",
        "categories",
        "lon",
        "lat",
        "on_duty",
    ];
    let mut r = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(body);
    let header: Vec<String> = match r.headers() {
        Ok(h) => h.iter().map(str::to_string).collect(),
        Err(e) => return Err(vec![format!("line 1: the header row does not read: {e}")]),
    };
    if let Some(bad) = header.iter().find(|h| !KNOWN.contains(&h.as_str())) {
        return Err(vec![format!(
            "line 1: unknown column {bad:?}: the columns are {}",
            KNOWN.join(", ")
        )]);
    }
    let (mut units, mut problems) = (vec![], vec![]);
    let mut seen = std::collections::HashSet::new();
    for rec in r.records() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                problems.push(format!("a row does not read: {e}"));
                continue;
            }
        };
        let line = rec.position().map_or(0, |p| p.line());
        let mut obj = serde_json::Map::new();
        obj.insert("on_duty".into(), true.into());
        let mut bad = None;
        for (h, v) in header.iter().zip(rec.iter()) {
            let value = match h.as_str() {
                "lon" | "lat" => match v.parse::<serde_json::Number>() {
                    Ok(n) => serde_json::Value::Number(n),
                    Err(_) => {
                        bad = Some(format!("{h} {v:?} is not a number"));
                        continue;
                    }
                },
                "on_duty" => match v {
                    "true" | "" => true.into(),
                    "false" => false.into(),
                    _ => {
                        bad = Some(format!("on_duty {v:?} is not true or false"));
                        continue;
                    }
                },
                "categories" => serde_json::Value::Array(
                    v.split(';')
                        .map(str::trim)
                        .filter(|c| !c.is_empty())
                        .map(|c| c.into())
                        .collect(),
                ),
                _ => v.into(),
            };
            obj.insert(h.clone(), value);
        }
        let unit = match bad {
            Some(m) => Err(m),
            None => serde_json::from_value::<Unit>(serde_json::Value::Object(obj))
                .map_err(|e| e.to_string()),
        };
        match unit {
            Ok(u) if u.id.is_empty() => problems.push(format!("line {line}: no id")),
            Ok(u) if !seen.insert(u.id.clone()) => {
                problems.push(format!("line {line}: unit {} is there twice", u.id))
            }
            Ok(u) => units.push(u),
            Err(e) => problems.push(format!("line {line}: {e}")),
        }
    }
    if problems.is_empty() {
        Ok(units)
    } else {
        Err(problems)
    }
}

/// Send every unit to the gateway at `url` (an admin's token); each one's outcome, in
/// order. A unit sent again unchanged is a repeat (its key is its content's).
pub async fn send(
    url: &str,
    token: &str,
    ca: Option<&Path>,
    units: &[Unit],
) -> Result<Vec<(String, CommandOutcome)>, ImportError> {
    let tls = ca
        .map(wire::tls)
        .transpose()
        .map_err(ImportError::Gateway)?;
    let url = url.split(',').next().unwrap_or(url).trim();
    let mut ws = wire::open(url, tls.as_ref(), &wire::hello(token, None, None))
        .await
        .map_err(ImportError::Gateway)?;
    let mut keys = Vec::with_capacity(units.len());
    for u in units {
        let json = serde_json::to_string(u)?;
        let digest = json.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
        });
        let key = format!("unit-import:{}:{digest:016x}", u.id);
        let msg = ClientMsg::Command {
            key: key.clone(),
            command: Command::UpsertUnit { unit: u.clone() },
        };
        ws.send(Message::Text(serde_json::to_string(&msg)?.into()))
            .await
            .map_err(|e| ImportError::Gateway(e.to_string()))?;
        keys.push((key, u.id.clone()));
    }
    let mut outcomes: std::collections::HashMap<String, CommandOutcome> = Default::default();
    while outcomes.len() < keys.len() {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(30), ws.next())
            .await
            .map_err(|_| ImportError::Gateway("no answer within 30 s".into()))?;
        let Some(Ok(Message::Text(t))) = frame else {
            return Err(ImportError::Gateway("it closed the connection".into()));
        };
        match serde_json::from_str::<ServerMsg>(&t) {
            Ok(ServerMsg::CommandResult { key, outcome }) => {
                outcomes.insert(key, outcome);
            }
            Ok(ServerMsg::Error { code, message }) => {
                return Err(ImportError::Gateway(format!("{code}: {message}")));
            }
            _ => {}
        }
    }
    Ok(keys
        .into_iter()
        .map(|(k, id)| {
            (
                id,
                outcomes.remove(&k).unwrap_or(CommandOutcome::Refused {
                    code: protocol::ErrorCode::Storage,
                    message: "no answer".into(),
                }),
            )
        })
        .collect())
}
