//! The closed vocabularies of the wire: error codes, audit actions and warning kinds.
//! Each is an enum that serializes as the snake_case string PROTOCOL.md lists, so code
//! branches on variants (never on strings) and the wire format is what it always was.
//! `ALL` lists every variant: the PROTOCOL.md check and the wall's names walk it.

use serde::{Deserialize, Serialize};

/// Defines a string-valued wire enum with `ALL` and `as_str`.
macro_rules! wire_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $s:literal,)* }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vm])* #[serde(rename = $s)] $v,)*
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v,)*];

            /// The string on the wire.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$v => $s,)*
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

wire_enum! {
    /// Why something was refused: in `error` frames, refused `command_result`s and HTTP
    /// error bodies. Stable; the message beside it says what to fix.
    ErrorCode {
        // Session and framing (`error` frames).
        /// The hello names another protocol version.
        Version = "version",
        /// The token is not known.
        Unauthorized = "unauthorized",
        /// The first frame was not a hello.
        HelloFirst = "hello_first",
        /// The first frame claimed to be a hello but does not parse.
        BadHello = "bad_hello",
        /// No hello came within the time limit.
        HelloTimeout = "hello_timeout",
        /// A second hello on the same connection.
        HelloTwice = "hello_twice",
        /// Malformed JSON, an unknown type, wrong field types (frames and HTTP bodies).
        BadMessage = "bad_message",
        /// Over the size limit.
        TooLarge = "too_large",
        /// An HTTP body that did not arrive in time.
        Timeout = "timeout",
        /// A binary frame: the protocol is JSON text.
        Binary = "binary",
        /// The client stopped reading; it is disconnected and may resume.
        CutOff = "cut_off",
        /// The gateway is shutting down (HTTP).
        Stopping = "stopping",
        /// Too many wrong tokens lately from this address or for this account, or over
        /// the credential's command budget: wait and send again.
        RateLimited = "rate_limited",
        // Commands (`command_result` refused, HTTP 4xx).
        /// The credential's role may not do this.
        Forbidden = "forbidden",
        /// A field is out of its documented bounds.
        Invalid = "invalid",
        /// A position outside the accepted area.
        OutOfRange = "out_of_range",
        UnknownTicket = "unknown_ticket",
        UnknownUnit = "unknown_unit",
        UnknownWarning = "unknown_warning",
        UnknownIncident = "unknown_incident",
        /// The audit entry is not in the briefing's incident's trail.
        UnknownEntry = "unknown_entry",
        UnitOffDuty = "unit_off_duty",
        IllegalTransition = "illegal_transition",
        /// That stage is already under supervision.
        AlreadySupervised = "already_supervised",
        NoBriefing = "no_briefing",
        /// A replaying gateway takes no commands.
        Replay = "replay",
        /// Not saved (a database error): retry.
        Storage = "storage",
        /// A cluster node found no writer to apply it (a failover under way), or the log
        /// did not confirm it: send it again with the same key.
        Unavailable = "unavailable",
        // Photos (`POST /api/photos`, and the photos an action names).
        /// No stored photo has that id.
        UnknownPhoto = "unknown_photo",
        /// Not a JPEG, PNG or WebP (whatever its name or type says).
        UnsupportedImage = "unsupported_image",
        /// A JPEG, PNG or WebP that does not decode (truncated, corrupt).
        BadImage = "bad_image",
        /// Wider, taller or more pixels than the gateway decodes (a decompression bomb).
        ImageTooLarge = "image_too_large",
        // The duty room (roster, escalations, handovers).
        /// A roster row that does not hold (its line and what to fix in the message).
        BadRoster = "bad_roster",
        UnknownShift = "unknown_shift",
        UnknownPerson = "unknown_person",
        UnknownEscalation = "unknown_escalation",
        UnknownHandover = "unknown_handover",
        /// The escalation was already acknowledged or closed, or the handover signed.
        AlreadyClosed = "already_closed",
    }
}

wire_enum! {
    /// What an audit entry records: the ticket command that made it.
    AuditAction {
        Intake = "intake",
        Dispatch = "dispatch",
        Accept = "accept",
        Start = "start",
        Return = "return",
        Escalate = "escalate",
        Supervise = "supervise",
        Resolve = "resolve",
        Rate = "rate",
        Close = "close",
        Merge = "merge",
        Unmerge = "unmerge",
        Review = "review",
        Callback = "callback",
        RequestExtension = "request_extension",
        DecideExtension = "decide_extension",
        MarkHard = "mark_hard",
        Suspend = "suspend",
        Release = "release",
        Place = "place",
        ScheduleMeeting = "schedule_meeting",
        MeetingOutcome = "meeting_outcome",
        /// A unit's progress note from the field (进展): no change of status.
        Progress = "progress",
    }
}

wire_enum! {
    /// What a warning is about (预警类型).
    WarningKind {
        /// The same matter reported again and again (重复诉求).
        RepeatedComplaints = "repeated_complaints",
        /// A dispute drawing a group (群体性矛盾).
        GroupDispute = "group_dispute",
        /// A person at risk of an extreme act (涉个人极端).
        ExtremeRisk = "extreme_risk",
        /// 重大风险.
        MajorRisk = "major_risk",
        /// Rainstorm and waterlogging (暴雨内涝).
        Flood = "flood",
        /// Other weather hazards (气象灾害).
        Weather = "weather",
        /// Crowds gathering (人员聚集).
        Crowding = "crowding",
        /// Anything a department raises that fits none of the above (其他).
        Other = "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_its_snake_case_string_on_the_wire() {
        for c in ErrorCode::ALL {
            let json = serde_json::to_string(c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.as_str()));
            assert_eq!(serde_json::from_str::<ErrorCode>(&json).unwrap(), *c);
        }
        for a in AuditAction::ALL {
            let back: AuditAction = serde_json::from_str(&format!("\"{a}\"")).unwrap();
            assert_eq!(back, *a);
        }
        for k in WarningKind::ALL {
            let back: WarningKind = serde_json::from_str(&format!("\"{k}\"")).unwrap();
            assert_eq!(back, *k);
        }
        assert!(serde_json::from_str::<WarningKind>("\"nonsense\"").is_err());
    }
}
