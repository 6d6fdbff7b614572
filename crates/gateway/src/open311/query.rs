//! `GET /open311/v2/requests`' parameters, read into what the core is asked for.

use domain::time::parse_iso;

/// What `GET requests` asks for, read from its parameters.
#[derive(Debug, PartialEq)]
pub struct Query {
    /// These requests only (`service_request_id`, or the path's id).
    pub ids: Option<Vec<u64>>,
    /// Taken in within [from, to] (ms).
    pub from: i64,
    pub to: i64,
    pub codes: Option<Vec<String>>,
    pub statuses: Option<Vec<String>>,
}

/// Read `GET requests`' parameters (the first of a repeated name counts). A date that
/// does not read is an error, never a silent default; nothing here indexes into the
/// text (the fuzzer's `parsers` target holds it to that).
pub fn query(params: &[(String, String)], one: Option<u64>, now_ms: i64) -> Result<Query, String> {
    let param = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let ids = match (one, param("service_request_id")) {
        (Some(id), _) => Some(vec![id]),
        (None, Some(list)) => Some(
            list.split(',')
                .take(1000)
                .map(|s| {
                    s.trim()
                        .parse()
                        .map_err(|_| format!("service_request_id {s:?} is not a request id"))
                })
                .collect::<Result<_, _>>()?,
        ),
        (None, None) => None,
    };
    let date = |k: &str| -> Result<Option<i64>, String> {
        match param(k) {
            None => Ok(None),
            Some(v) => parse_iso(v).map(Some).ok_or_else(|| {
                format!("{k} {v:?} is not an ISO 8601 time like 2026-01-01T08:00:00+08:00")
            }),
        }
    };
    let day = domain::time::DAY_MS;
    let (from, to) = match (date("start_date")?, date("end_date")?) {
        (Some(a), Some(b)) => (a, b),
        (Some(a), None) => (a, now_ms),
        (None, Some(b)) => (b - 90 * day, b),
        (None, None) => (now_ms - 90 * day, now_ms + 60_000),
    };
    let list = |k: &str| param(k).map(|c| c.split(',').map(str::to_string).collect());
    Ok(Query {
        ids,
        from,
        to,
        codes: list("service_code"),
        statuses: list("status"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn dates_that_do_not_read_are_refused_not_defaulted_and_never_panic() {
        let now = 1_767_225_600_000;
        let q = query(
            &p(&[("start_date", "2026-01-01T08:00:00+08:00")]),
            None,
            now,
        )
        .unwrap();
        assert_eq!((q.from, q.to), (now, now));
        for bad in ["2026-01-01T08:00:0中+08:00", "yesterday", ""] {
            let e = query(&p(&[("start_date", bad)]), None, now).unwrap_err();
            assert!(e.contains("start_date"), "{e}");
        }
        let e = query(&p(&[("service_request_id", "1,x")]), None, now).unwrap_err();
        assert!(e.contains("\"x\""), "{e}");
        let q = query(
            &p(&[("service_code", "a,b"), ("status", "open")]),
            Some(9),
            now,
        )
        .unwrap();
        assert_eq!(q.ids, Some(vec![9]));
        assert_eq!(q.codes, Some(vec!["a".to_string(), "b".to_string()]));
    }
}
