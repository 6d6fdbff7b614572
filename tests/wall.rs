//! The wall: its state plugins headless (MinimalPlugins), end to end against a real
//! gateway on loopback, and a real render of the demo under Xvfb.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly where it stands

use std::time::{Duration, Instant};

use bevy::prelude::*;
use crossbeam_channel::{Receiver, Sender, bounded};
use yiping::domain::time::{now_ms, now_us};
use yiping::feed::{self, FeedConfig, FeedEvent, FeedStatus};
use yiping::protocol::{
    AuditEntry, ClientMsg, Command, ErrorCode, Event, Priority, ServerMsg, Snapshot, Ticket,
    TicketStatus, examples,
};
use yiping::wall::act::dispatch_command;
use yiping::wall::action::{Selection, UiAction, UndoWindow};
use yiping::wall::clock::WallClock;
use yiping::wall::link::{AuditTrails, CommandState, FeedHealth, Outbox, WallMirror};
use yiping::wall::rollup::RollUps;
use yiping::wall::state::{Queue, Sla, sla};
use yiping::wall::{FeedLink, WallCorePlugin};

mod common;

fn app() -> (App, Sender<FeedEvent>, Receiver<ClientMsg>) {
    let (ev_tx, ev_rx) = bounded(1024);
    let (cmd_tx, cmd_rx) = bounded(64);
    let mut app = App::new();
    app.add_plugins((MinimalPlugins, WallCorePlugin))
        .insert_resource(FeedLink {
            events: ev_rx,
            commands: cmd_tx,
            wake: Default::default(),
        })
        .insert_resource(UndoWindow(Duration::ZERO));
    (app, ev_tx, cmd_rx)
}

fn ticket(id: u64, priority: Priority, deadline_ms: i64, grid: &str) -> Ticket {
    Ticket {
        id,
        priority,
        deadline_ms,
        grid: grid.into(),
        status: TicketStatus::Received,
        unit: None,
        ..examples::ticket()
    }
}

/// A whole snapshot in one part, as the feed hands it over.
fn snap(
    epoch: &str,
    seq: u64,
    tickets: Vec<Ticket>,
    warnings: Vec<yiping::protocol::Warning>,
    units: Vec<yiping::protocol::Unit>,
) -> FeedEvent {
    FeedEvent::Msg(
        ServerMsg::Snapshot(Snapshot {
            epoch: epoch.into(),
            seq,
            part: 0,
            last: true,
            tickets,
            warnings,
            units,
            briefing: None,
            duty: None,
        }),
        now_us(),
    )
}

fn delta(seq: u64, t: Ticket) -> FeedEvent {
    let audit = AuditEntry {
        seq,
        ..examples::audit()
    };
    FeedEvent::Msg(
        ServerMsg::Delta {
            epoch: "e".into(),
            seq,
            ts_us: now_us(),
            event: Event::TicketTransitioned { ticket: t, audit },
        },
        now_us(),
    )
}

#[test]
fn the_mirror_queue_sla_and_dispatch_click_follow_the_feed() {
    let (mut app, feed, commands) = app();
    let now = now_ms();
    let g = "321102-01-003-005";
    let tickets = vec![
        ticket(1, Priority::Normal, now + 10 * 3_600_000, g),
        ticket(2, Priority::Urgent, now + 2 * 3_600_000, g),
        ticket(3, Priority::Urgent, now - 60_000, "321102-01-003-08"),
        ticket(4, Priority::Important, now + 30 * 60_000, g),
    ];
    feed.send(FeedEvent::Status(FeedStatus::Connected)).unwrap();
    feed.send(FeedEvent::Msg(
        ServerMsg::Snapshot(Snapshot {
            epoch: "e".into(),
            seq: 10,
            part: 0,
            last: true,
            tickets,
            warnings: vec![],
            units: vec![examples::unit()],
            briefing: None,
            duty: None,
        }),
        0,
    ))
    .unwrap();
    app.update();
    assert_eq!(app.world().resource::<WallMirror>().0.tickets.len(), 4);
    assert!(app.world().resource::<FeedHealth>().is_live(Instant::now()));
    // Priority first, then the nearest deadline.
    assert_eq!(
        app.world().resource::<Queue>().ids().collect::<Vec<_>>(),
        vec![3, 2, 4, 1]
    );
    let rolls = app.world().resource::<RollUps>();
    assert_eq!(rolls.get(g).open, 3);
    // The roll-ups climb the grid id: the village, town, district and city see all four.
    assert_eq!(rolls.get("321102-01").open, 4);
    assert_eq!(rolls.get("").open, 4);
    assert_eq!(rolls.get("").overdue(), 1, "ticket 3 is past its deadline");
    let m = &app.world().resource::<WallMirror>().0;
    let states: Vec<Sla> = [1, 4, 3]
        .iter()
        .map(|id| sla(&m.tickets[id], now))
        .collect();
    assert_eq!(states, [Sla::Ok, Sla::Soon, Sla::Overdue]);

    // A delta resolves ticket 3: it leaves the queue and its grid's load.
    let mut t3 = (*m.tickets[&3]).clone();
    t3.status = TicketStatus::Resolved;
    feed.send(delta(11, t3)).unwrap();
    // An old delta (seq not after the mirror's) changes nothing.
    let mut stale = (*app.world().resource::<WallMirror>().0.tickets[&1]).clone();
    stale.status = TicketStatus::Archived;
    feed.send(delta(9, stale)).unwrap();
    app.update();
    assert_eq!(
        app.world().resource::<Queue>().ids().collect::<Vec<_>>(),
        vec![2, 4, 1]
    );
    assert_eq!(
        app.world()
            .resource::<RollUps>()
            .get("321102-01-003-08")
            .open,
        0
    );
    assert_eq!(app.world().resource::<WallMirror>().0.seq, 11);

    // The dispatch click on ticket 2: the recommended unit, sent once the undo window passes.
    let cmd = dispatch_command(
        app.world().resource::<WallMirror>(),
        app.world().resource::<AuditTrails>(),
        2,
    )
    .expect("a unit answers for it");
    assert_eq!(
        cmd,
        Command::Dispatch {
            ticket: 2,
            unit: examples::unit().id
        }
    );
    app.world_mut().write_message(UiAction::Select(2));
    app.world_mut().write_message(UiAction::Arm {
        command: cmd.clone(),
        label: "派单".into(),
    });
    app.update();
    app.update();
    let sent: Vec<ClientMsg> = commands.try_iter().collect();
    assert!(
        sent.contains(&ClientMsg::AuditQuery { ticket: 2 }),
        "{sent:?}"
    );
    let key = match sent.iter().find(|m| matches!(m, ClientMsg::Command { .. })) {
        Some(ClientMsg::Command { key, command }) => {
            assert_eq!(command, &cmd);
            key.clone()
        }
        _ => panic!("no command sent: {sent:?}"),
    };
    assert_eq!(
        app.world().resource::<Outbox>().state(&key),
        Some(&CommandState::Pending)
    );
    // The mirror did not change on the click: only the feed changes it.
    assert_eq!(
        app.world().resource::<WallMirror>().0.tickets[&2].status,
        TicketStatus::Received
    );

    // An armed command that is undone is never sent.
    app.insert_resource(UndoWindow(Duration::from_secs(60)));
    app.world_mut().write_message(UiAction::Arm {
        command: cmd,
        label: "派单".into(),
    });
    app.update();
    app.world_mut().write_message(UiAction::Undo);
    app.update();
    assert!(commands.try_iter().next().is_none());
    assert!(app.world().resource::<Selection>().armed.is_none());

    // Acknowledging a warning is sent at once (nothing to take back).
    app.world_mut()
        .write_message(UiAction::Send(Command::AckWarning { warning: 7 }));
    app.update();
    let sent: Vec<ClientMsg> = commands.try_iter().collect();
    assert!(
        matches!(
            sent.as_slice(),
            [ClientMsg::Command {
                command: Command::AckWarning { warning: 7 },
                ..
            }]
        ),
        "{sent:?}"
    );
}

#[test]
fn a_figure_or_a_bar_filters_the_queue_and_one_click_shows_all_again() {
    use yiping::wall::action::QueueFilter;
    let (mut app, feed, _commands) = app();
    let now = now_ms();
    let mut supervised = ticket(2, Priority::Normal, now + 3_600_000, "321111-01-001-001");
    supervised.supervised = true;
    let tickets = vec![
        ticket(1, Priority::Normal, now - 60_000, "321102-01-003-005"),
        supervised,
        ticket(3, Priority::Urgent, now + 7_200_000, "321102-02-001-001"),
    ];
    feed.send(FeedEvent::Status(FeedStatus::Connected)).unwrap();
    feed.send(snap("e", 5, tickets, vec![], vec![])).unwrap();
    app.update();
    assert_eq!(
        app.world().resource::<Queue>().ids().collect::<Vec<_>>(),
        vec![3, 1, 2]
    );
    let mut shown = |f: QueueFilter| {
        app.world_mut().write_message(UiAction::Filter(f));
        app.update();
        app.update();
        let q = app.world().resource::<Queue>();
        assert_eq!(q.total(), 3, "the filter hides, it does not drop");
        q.ids().collect::<Vec<_>>()
    };
    assert_eq!(shown(QueueFilter::Overdue), vec![1], "办结超期");
    assert_eq!(shown(QueueFilter::Supervised), vec![2], "督办中");
    assert_eq!(
        shown(QueueFilter::Region("321102".into())),
        vec![3, 1],
        "a district's bar"
    );
    assert_eq!(
        shown(QueueFilter::Channel(examples::ticket().channel)),
        vec![3, 1, 2]
    );
    assert_eq!(
        shown(QueueFilter::All),
        vec![3, 1, 2],
        "cleared with one click"
    );
    // The mirror was never touched.
    assert_eq!(app.world().resource::<WallMirror>().0.tickets.len(), 3);
}

#[test]
fn a_wall_that_hears_nothing_says_it_is_stale() {
    let (mut app, feed, _c) = app();
    feed.send(FeedEvent::Status(FeedStatus::Connected)).unwrap();
    feed.send(FeedEvent::Msg(
        ServerMsg::Snapshot(Snapshot {
            epoch: "e".into(),
            seq: 1,
            part: 0,
            last: true,
            tickets: vec![],
            warnings: vec![],
            units: vec![],
            briefing: None,
            duty: None,
        }),
        0,
    ))
    .unwrap();
    app.update();
    let h = app.world().resource::<FeedHealth>();
    assert!(h.is_live(Instant::now()));
    assert!(
        !h.is_live(Instant::now() + Duration::from_secs(4)),
        "3 s without data is stale"
    );
    feed.send(FeedEvent::Status(FeedStatus::Reconnecting {
        attempt: 1,
        retry_ms: 100,
        reason: "x".into(),
    }))
    .unwrap();
    app.update();
    assert!(!app.world().resource::<FeedHealth>().is_live(Instant::now()));
}

/// Pump an app until `done` holds (15 s at most).
fn pump(app: &mut App, done: impl Fn(&World) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !done(app.world()) {
        assert!(Instant::now() < deadline, "timed out");
        app.update();
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn wall_on(url: &str, token: &str) -> App {
    let h = feed::spawn(FeedConfig::new(url, token)).unwrap();
    let mut app = App::new();
    app.add_plugins((MinimalPlugins, WallCorePlugin))
        .insert_resource(FeedLink {
            events: h.events,
            commands: h.commands,
            wake: Default::default(),
        })
        .insert_resource(UndoWindow(Duration::ZERO));
    app
}

#[test]
fn a_dispatch_from_one_wall_is_confirmed_through_the_feed_and_seen_by_another() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = common::config(&dir);
    let g = rt.block_on(yiping::gateway::start(cfg)).unwrap();
    let url = format!("ws://{}", g.ws_addr);
    // An admin client registers a unit and takes a ticket in.
    let admin = feed::spawn(FeedConfig::new(url.clone(), common::ADMIN)).unwrap();
    let mut unit = examples::unit();
    unit.categories
        .push(yiping::protocol::Category::SafetyHazard);
    admin
        .commands
        .send(ClientMsg::Command {
            key: "u".into(),
            command: Command::UpsertUnit { unit },
        })
        .unwrap();
    admin
        .commands
        .send(ClientMsg::Command {
            key: "t".into(),
            command: Command::Intake {
                ticket: examples::new_ticket(),
            },
        })
        .unwrap();

    let mut console = wall_on(&url, common::OP);
    let mut wall = wall_on(&url, common::VIEW);
    pump(&mut console, |w| {
        w.resource::<WallMirror>().0.tickets.contains_key(&1)
            && !w.resource::<WallMirror>().0.units.is_empty()
    });
    let cmd = dispatch_command(
        console.world().resource::<WallMirror>(),
        console.world().resource::<AuditTrails>(),
        1,
    )
    .unwrap();
    console.world_mut().write_message(UiAction::Arm {
        command: cmd,
        label: "派单".into(),
    });
    pump(&mut console, |w| {
        let sel = w.resource::<Selection>();
        sel.sent
            .as_ref()
            .is_some_and(|(k, _)| w.resource::<Outbox>().state(k) == Some(&CommandState::Confirmed))
    });
    assert_eq!(
        console.world().resource::<WallMirror>().0.tickets[&1].status,
        TicketStatus::Assigned
    );
    pump(&mut wall, |w| {
        w.resource::<WallMirror>()
            .0
            .tickets
            .get(&1)
            .is_some_and(|t| t.status == TicketStatus::Assigned)
    });

    // The viewer's wall cannot dispatch: the gateway's refusal comes back in words.
    let again = Command::Accept { ticket: 1 };
    wall.world_mut().write_message(UiAction::Arm {
        command: again,
        label: "签收".into(),
    });
    pump(&mut wall, |w| {
        let sel = w.resource::<Selection>();
        sel.sent.as_ref().is_some_and(|(k, _)| matches!(w.resource::<Outbox>().state(k), Some(CommandState::Refused { code, .. }) if *code == ErrorCode::Forbidden))
    });
    drop(admin);
    rt.block_on(g.shutdown());
}

/// Render the demo under Xvfb with Mesa's software Vulkan and look at the picture.
#[test]
fn the_demo_renders_the_map_and_the_panels() {
    let out = tempfile::tempdir().unwrap();
    let png = out.path().join("demo.png");
    let status = std::process::Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1920x1080x24"])
        .arg(env!("CARGO_BIN_EXE_yiping"))
        .args(["demo", "--history-days", "2", "--frames", "40", "--screenshot"])
        .arg(&png)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("WGPU_BACKEND", "vulkan")
        .env("RUST_LOG", "warn")
        .status()
        .expect("xvfb-run must be installed (apt-get install xvfb xauth mesa-vulkan-drivers); .ci/run does it");
    assert!(status.success(), "the demo exited with {status}");
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&png).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (1920, 1080));
    let ch = info.color_type.samples();
    let px = |x: u32, y: u32| {
        let o = (y * info.width + x) as usize * ch;
        [buf[o], buf[o + 1], buf[o + 2]]
    };
    // Many colours overall: not blank, not one colour.
    let mut colours = std::collections::HashSet::new();
    for y in (0..1080).step_by(7) {
        for x in (0..1920).step_by(7) {
            colours.insert(px(x, y));
        }
    }
    assert!(
        colours.len() > 200,
        "only {} colours: a blank or flat picture",
        colours.len()
    );
    // The map area (between the panels) holds the city's cyan outline and its cells.
    let cyan = (340..1100)
        .step_by(2)
        .flat_map(|x| (80..1070).step_by(2).map(move |y| (x, y)))
        .filter(|&(x, y)| {
            let [r, g, b] = px(x, y);
            b > 180 && g > 150 && r < 140
        })
        .count();
    assert!(
        cyan > 200,
        "the map's outline is missing ({cyan} cyan pixels)"
    );
    // The queue panel on the right has text: bright pixels on a dark background.
    let text = (1150..1900)
        .flat_map(|x| (120..400).map(move |y| (x, y)))
        .filter(|&(x, y)| px(x, y).iter().all(|c| *c > 130))
        .count();
    assert!(
        text > 500,
        "the queue panel shows no text ({text} bright pixels)"
    );
}

#[test]
fn a_focus_action_drills_down_and_back_up_without_touching_the_data() {
    use yiping::wall::view::Focus;
    let (mut app, feed, commands) = app();
    let now = now_ms();
    feed.send(snap(
        "e",
        3,
        vec![
            ticket(1, Priority::Urgent, now + 3_600_000, "321102-01-003-005"),
            ticket(2, Priority::Normal, now + 3_600_000, "321102-02-001-01"),
            ticket(3, Priority::Normal, now + 3_600_000, "321181-01-001-01"),
        ],
        vec![],
        vec![],
    ))
    .unwrap();
    app.update();
    let seq = app.world().resource::<WallMirror>().0.seq;
    for (region, open) in [("321102", 2), ("321102-01", 1), ("", 3)] {
        app.world_mut()
            .write_message(UiAction::Focus(region.to_string()));
        app.update();
        assert_eq!(app.world().resource::<Focus>().0, region);
        let rolls = app.world().resource::<RollUps>();
        assert_eq!(rolls.get(region).open, open, "{region:?}");
    }
    assert_eq!(app.world().resource::<WallMirror>().0.seq, seq);
    assert!(
        commands.try_recv().is_err(),
        "a view change sends no command"
    );
}

#[test]
fn an_automatic_supervision_becomes_a_notice_on_the_wall() {
    use yiping::wall::link::Notices;
    let (mut app, feed, _commands) = app();
    let now = now_ms();
    feed.send(snap(
        "e",
        1,
        vec![ticket(7, Priority::Urgent, now - 1000, "321102-01-003-005")],
        vec![],
        vec![],
    ))
    .unwrap();
    let mut t = ticket(7, Priority::Urgent, now - 1000, "321102-01-003-005");
    t.supervised = true;
    for (seq, actor) in [(2, "值班员 王磊"), (3, yiping::protocol::AUTO_SUPERVISOR)] {
        let audit = AuditEntry {
            seq,
            actor: actor.into(),
            action: yiping::protocol::AuditAction::Supervise,
            note: "[办结] 超过办理时限，系统自动督办".into(),
            ..examples::audit()
        };
        feed.send(FeedEvent::Msg(
            ServerMsg::Delta {
                epoch: "e".into(),
                seq,
                ts_us: now_us(),
                event: Event::TicketUpdated {
                    ticket: t.clone(),
                    audit,
                },
            },
            now_us(),
        ))
        .unwrap();
    }
    app.update();
    let n = &app.world().resource::<Notices>().0;
    assert_eq!(n.len(), 1, "only the gateway's own supervision is a notice");
    assert_eq!(n[0].0, 7);
    assert!(n[0].2.note.contains("办结"));
}

#[test]
fn a_demo_wall_refuses_to_command_a_gateway_that_is_not_its_own() {
    let (mut app, feed, commands) = app();
    app.world_mut().resource_mut::<Outbox>().only_epoch = Some("demo-epoch".into());
    let snap = |epoch: &str| snap(epoch, 1, vec![], vec![examples::warning()], vec![]);
    // Fed by another gateway: the acknowledgement is not sent, and says why.
    feed.send(snap("someone-elses-epoch")).unwrap();
    app.update();
    app.world_mut()
        .write_message(UiAction::Send(Command::AckWarning { warning: 7 }));
    app.update();
    assert!(commands.try_recv().is_err(), "nothing went out");
    let states: Vec<_> = app
        .world()
        .resource::<Outbox>()
        .sent
        .values()
        .map(|s| s.state.clone())
        .collect();
    assert!(
        matches!(&states[..], [CommandState::NotSent(why)] if why.contains("demo")),
        "{states:?}"
    );
    // Its own gateway: the same command goes out.
    feed.send(snap("demo-epoch")).unwrap();
    app.update();
    app.world_mut()
        .write_message(UiAction::Send(Command::AckWarning { warning: 7 }));
    app.update();
    assert!(matches!(
        commands.try_recv(),
        Ok(ClientMsg::Command {
            command: Command::AckWarning { warning: 7 },
            ..
        })
    ));
}

#[test]
fn a_tour_moves_to_its_next_step_when_the_time_is_up_and_loops() {
    use yiping::wall::tour::{Tour, TourState};
    use yiping::wall::view::Focus;
    let (mut app, feed, _commands) = app();
    // A tour's clock starts when the city shows.
    feed.send(snap("e", 1, vec![], vec![], vec![])).unwrap();
    let tour = Tour::parse(
        "name = \"t\"\n[[steps]]\nview = \"overview\"\nseconds = 3\ncaption = \"全市\"\n\
         [[steps]]\nview = \"region\"\narea = \"321102\"\nseconds = 3\ncaption = \"京口区\"\n",
        "t.toml",
        |a| a == "321102",
    )
    .unwrap();
    let mut state = TourState::new(tour, 0);
    app.insert_resource(state);
    app.update();
    app.update();
    assert_eq!(app.world().resource::<Focus>().0, "");
    // Time is up: the region step, drilled down to its area.
    app.world_mut().resource_mut::<TourState>().since -= Duration::from_secs(4);
    app.update();
    app.update();
    assert_eq!(app.world().resource::<TourState>().step, 1);
    assert_eq!(app.world().resource::<Focus>().0, "321102");
    // And round again to the first.
    app.world_mut().resource_mut::<TourState>().since -= Duration::from_secs(4);
    app.update();
    app.update();
    state = app.world_mut().remove_resource::<TourState>().unwrap();
    assert_eq!(state.step, 0);
    assert_eq!(app.world().resource::<Focus>().0, "");
}

#[test]
fn a_briefing_shows_exactly_its_incidents_audit_entries_in_order() {
    use yiping::protocol::{Briefing, Incident};
    use yiping::wall::briefing::{lane, timeline};
    use yiping::wall::link::AuditTrails;
    use yiping::wall::view::Focus;
    let (mut app, feed, commands) = app();
    let now = now_ms();
    let t5 = ticket(5, Priority::Urgent, now + 3_600_000, "321102-01-003-005");
    let other = ticket(6, Priority::Normal, now + 3_600_000, "321102-01-003-08");
    feed.send(snap(
        "e",
        20,
        vec![t5.clone(), other],
        vec![],
        vec![examples::unit()],
    ))
    .unwrap();
    app.update();
    // A console starts a briefing on ticket 5 and promotes its dispatch.
    use yiping::protocol::AuditAction as A;
    let entry = |seq: u64, action: A| AuditEntry {
        seq,
        action,
        at_ms: now - (30 - seq as i64) * 60_000,
        ..examples::audit()
    };
    let b = Briefing {
        incident: Incident::Ticket { id: 5 },
        title: t5.title.clone(),
        tickets: vec![5],
        grids: vec![t5.grid.clone()],
        significant: vec![12],
        started_ms: now,
        by: "值班长".into(),
    };
    feed.send(FeedEvent::Msg(
        ServerMsg::Delta {
            epoch: "e".into(),
            seq: 21,
            ts_us: now_us(),
            event: Event::BriefingChanged {
                briefing: Some(b.clone()),
            },
        },
        now_us(),
    ))
    .unwrap();
    app.update();
    app.update();
    // The wall asked for the ticket's trail and drilled to its village.
    let asked: Vec<ClientMsg> = commands.try_iter().collect();
    assert!(
        asked
            .iter()
            .any(|m| matches!(m, ClientMsg::AuditQuery { ticket: 5 })),
        "{asked:?}"
    );
    assert_eq!(app.world().resource::<Focus>().0, "321102-01-003");
    // The trail comes, then a live change adds its own line; ticket 6's line is not ours.
    feed.send(FeedEvent::Msg(
        ServerMsg::Audit {
            ticket: 5,
            entries: vec![
                entry(10, A::Intake),
                entry(12, A::Dispatch),
                entry(15, A::Accept),
            ],
        },
        now_us(),
    ))
    .unwrap();
    let mut t5b = t5.clone();
    t5b.status = TicketStatus::InProgress;
    for (seq, t, a) in [
        (22, t5b, entry(22, A::Start)),
        (
            23,
            ticket(6, Priority::Normal, now, "321102-01-003-08"),
            entry(23, A::Dispatch),
        ),
    ] {
        feed.send(FeedEvent::Msg(
            ServerMsg::Delta {
                epoch: "e".into(),
                seq,
                ts_us: now_us(),
                event: Event::TicketTransitioned {
                    ticket: t,
                    audit: a,
                },
            },
            now_us(),
        ))
        .unwrap();
    }
    app.update();
    let w = app.world();
    let tl = timeline(&b, w.resource::<AuditTrails>());
    let seqs: Vec<u64> = tl.iter().map(|(_, a)| a.seq).collect();
    assert_eq!(
        seqs,
        vec![10, 12, 15, 22],
        "ticket 5's entries, in order, and no other"
    );
    let l: Vec<u64> = lane(&b, &tl).iter().map(|(_, a)| a.seq).collect();
    assert_eq!(l, vec![12]);
    // The briefing ends: the wall goes back to the city.
    feed.send(FeedEvent::Msg(
        ServerMsg::Delta {
            epoch: "e".into(),
            seq: 24,
            ts_us: now_us(),
            event: Event::BriefingChanged { briefing: None },
        },
        now_us(),
    ))
    .unwrap();
    app.update();
    app.update();
    assert_eq!(app.world().resource::<Focus>().0, "");
    assert!(app.world().resource::<WallMirror>().0.briefing.is_none());
}

#[test]
fn a_wall_rewinds_its_gateways_history_and_comes_back_to_live() {
    use yiping::wall::rewind::Rewind;
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = common::config(&dir);
    let db = cfg.database.clone();
    let g = rt.block_on(yiping::gateway::start(cfg)).unwrap();
    let url = format!("ws://{}", g.ws_addr);
    let admin = feed::spawn(FeedConfig::new(url.clone(), common::ADMIN)).unwrap();
    for i in 0..5 {
        admin
            .commands
            .send(ClientMsg::Command {
                key: format!("t{i}"),
                command: Command::Intake {
                    ticket: examples::new_ticket(),
                },
            })
            .unwrap();
    }
    let mut wall = wall_on(&url, common::VIEW);
    wall.insert_resource(Rewind {
        // The production rewind: a replay of the gateway's own database.
        source: std::sync::Arc::new(yiping::bridge::DbRewind::new(db, rt.handle().clone())),
        live: FeedConfig::new(url.clone(), common::VIEW),
        active: None,
        error: None,
    });
    pump(&mut wall, |w| {
        w.resource::<WallMirror>().0.tickets.len() == 5
    });
    let live_epoch = w_epoch(&wall);
    // Rewind from the start: a replay gateway's feed, with its badge, the same tickets.
    wall.world_mut().write_message(UiAction::Rewind(Some(0)));
    pump(&mut wall, |w| {
        let m = &w.resource::<WallMirror>().0;
        m.epoch != live_epoch && m.replay.is_some() && m.tickets.len() == 5
    });
    assert!(wall.world().resource::<Rewind>().active.is_some());
    // Back to live: the live gateway's snapshot again, no replay.
    wall.world_mut().write_message(UiAction::Rewind(None));
    pump(&mut wall, |w| {
        let m = &w.resource::<WallMirror>().0;
        m.epoch == live_epoch && m.tickets.len() == 5 && !m.loading && m.replay.is_none()
    });
    let r = wall.world().resource::<Rewind>();
    assert!(r.active.is_none() && r.error.is_none());
    rt.block_on(g.shutdown());
}

fn w_epoch(app: &App) -> String {
    app.world().resource::<WallMirror>().0.epoch.clone()
}

#[test]
fn during_a_replay_the_map_counts_overdue_against_the_recorded_clock() {
    let (mut app, feed, _) = app();
    let now = now_ms();
    const H: i64 = 3_600_000;
    // Overdue by the machine's clock; an hour before its deadline by the recording's.
    let t = ticket(1, Priority::Normal, now - H, "321102-01-003-005");
    feed.send(FeedEvent::Status(FeedStatus::Connected)).unwrap();
    feed.send(snap("e", 1, vec![t.clone()], vec![], vec![]))
        .unwrap();
    let replay_at = |clock_ms| {
        FeedEvent::Msg(
            ServerMsg::Replay {
                clock_ms,
                speed: 1.0,
                done: false,
            },
            now_us(),
        )
    };
    feed.send(replay_at(now - 2 * H)).unwrap();
    app.update();
    app.update();
    let w = app.world();
    assert_eq!(w.resource::<WallClock>().now_ms, now - 2 * H);
    assert_eq!(
        w.resource::<RollUps>().get("").overdue(),
        0,
        "the map's overdue count follows the replay's clock, not the machine's"
    );
    assert_eq!(sla(&t, w.resource::<WallClock>().now_ms), Sla::Ok);
    // The recording's clock passes the deadline: now it is overdue.
    feed.send(replay_at(now - H / 2)).unwrap();
    app.update();
    assert_eq!(app.world().resource::<RollUps>().get("").overdue(), 1);
}
