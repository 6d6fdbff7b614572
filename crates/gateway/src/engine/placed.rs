//! Which frames on the log's subjects a follower applies: its writer's, at their place.

use protocol::{Event, ServerMsg};
use store::StoredDelta;

/// The event a stored delta frame carries, if the frame is one this log's writer wrote
/// at this place: a delta of `epoch` whose own `seq` is its place in the stream. Anything
/// else (a publish by someone else on the events' subjects) is not applied.
pub(super) fn event_of(d: &StoredDelta, epoch: &str) -> Option<Event> {
    match serde_json::from_str::<ServerMsg>(&d.frame) {
        Ok(ServerMsg::Delta {
            epoch: e,
            seq,
            event,
            ..
        }) if e == epoch && seq == d.seq => Some(event),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_follower_takes_only_its_writers_frames_at_their_place() {
        let frame = |epoch: &str, seq: u64| {
            serde_json::to_string(&ServerMsg::Delta {
                epoch: epoch.into(),
                seq,
                ts_us: 1,
                event: Event::BriefingChanged { briefing: None },
            })
            .unwrap()
        };
        let at = |seq: u64, frame: String| StoredDelta {
            seq,
            ts_us: 1,
            frame,
        };
        assert!(event_of(&at(5, frame("e1", 5)), "e1").is_some());
        assert!(
            event_of(&at(5, frame("e2", 5)), "e1").is_none(),
            "another epoch"
        );
        assert!(
            event_of(&at(6, frame("e1", 5)), "e1").is_none(),
            "not its place"
        );
        let hb = serde_json::to_string(&ServerMsg::Heartbeat {
            epoch: "e1".into(),
            seq: 5,
            ts_us: 1,
        })
        .unwrap();
        assert!(event_of(&at(5, hb), "e1").is_none(), "not a delta");
    }
}
