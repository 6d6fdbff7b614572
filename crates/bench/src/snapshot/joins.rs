//! The joining walls' process: connections that each read and decode a whole snapshot.

use super::*;

/// The joining walls' process: `walls` connections at once, each reading and decoding
/// its whole snapshot; a line each on stdout, "bytes seconds".
pub(super) fn join_walls(url: &str, walls: usize, nice: Option<i32>) -> anyhow::Result<()> {
    // Set on this thread before any other is made: they inherit it.
    match nice {
        Some(n) => {
            // SAFETY: setpriority on the calling thread (0); no memory is touched.
            let set = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, n) };
            anyhow::ensure!(
                set == 0,
                "the joining walls' niceness was not set: {}",
                std::io::Error::last_os_error()
            )
        }
        // As the gateway's own snapshot threads.
        None => yiping::gateway::lower_priority(),
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let mut joins = vec![];
        for _ in 0..walls {
            let url = url.to_string();
            joins.push(tokio::spawn(async move {
                let mut ws = connect(&url, Encoding::Compact, None).await?;
                read_and_drop(&mut ws).await
            }));
        }
        for j in joins {
            let (bytes, secs) = j.await??;
            println!("{bytes} {secs}");
        }
        anyhow::Ok(())
    })
}
