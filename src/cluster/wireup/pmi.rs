//! A client of the PMI-1 and PMI-2 wire protocols, as MPICH's Hydra (`mpiexec.hydra`) and
//! Slurm's `pmi2` plugin (`srun --mpi=pmi2`) serve them on the socket named by `PMI_FD`.
//!
//! Both start with the same PMI-1 line, `cmd=init pmi_version=V pmi_subversion=S`.
//! - **PMI-1** then goes on with newline-terminated lines of space-separated `key=value`
//!   pairs (`cmd=put kvsname=K key=k value=v`, `cmd=barrier_in`, `cmd=get ...`).
//! - **PMI-2** sends each command as a 6-character, space-padded decimal length followed by
//!   that many bytes of `key=value;` pairs, with a `;` inside a value doubled.
//!
//! Only what the wire-up needs is spoken: the job's name, put, a fence (which both
//! commits our puts and waits for everyone's), get and finalize. Keys and values must not
//! contain white space or `=`; ours are fixed names and hex, digits, dots and commas.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};

use crate::error::{Error, Result};

/// Which protocol a [`PmiClient`] speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PmiVersion {
    /// PMI-1: text lines.
    V1,
    /// PMI-2: length-prefixed commands.
    V2,
}

/// A PMI client over one connection to the launcher's PMI server.
pub struct PmiClient<S: Read + Write> {
    conn: BufReader<S>,
    version: PmiVersion,
    rank: usize,
    /// The name of the job's key/value space (PMI-1 kvsname, PMI-2 job id).
    job: String,
}

impl<S: Read + Write> PmiClient<S> {
    /// Greets the server on `stream` as `rank`, in the protocol `version`, and learns the
    /// job's name. `jobid` is `PMI_JOBID` when the launcher set it (Slurm's PMI-2 server
    /// requires it back in `fullinit`).
    pub fn init(
        stream: S,
        version: PmiVersion,
        rank: usize,
        jobid: Option<&str>,
    ) -> Result<PmiClient<S>> {
        let mut client = PmiClient {
            conn: BufReader::new(stream),
            version,
            rank,
            job: String::new(),
        };
        let (v, sub) = match version {
            PmiVersion::V1 => (1, 1),
            PmiVersion::V2 => (2, 0),
        };
        client.send_line(&format!("cmd=init pmi_version={v} pmi_subversion={sub}\n"))?;
        let reply = client.read_line_reply("response_to_init")?;
        check_rc(&reply, "init")?;
        if reply.get("pmi_version").map(String::as_str) != Some(&v.to_string()) {
            return Err(pmi_error(format!(
                "the server does not speak PMI-{v} (it answered {reply:?})"
            )));
        }
        client.job = match version {
            PmiVersion::V1 => {
                client.send_line("cmd=get_my_kvsname\n")?;
                let reply = client.read_line_reply("my_kvsname")?;
                check_rc(&reply, "get_my_kvsname")?;
                field(&reply, "kvsname", "get_my_kvsname")?
            }
            PmiVersion::V2 => {
                let rank_field = rank.to_string();
                let mut fullinit = vec![("cmd", "fullinit")];
                if let Some(jobid) = jobid {
                    fullinit.push(("pmijobid", jobid));
                }
                fullinit.extend([("pmirank", rank_field.as_str()), ("threaded", "FALSE")]);
                client.send_v2(&fullinit)?;
                let reply = client.read_v2_reply("fullinit-response")?;
                check_rc(&reply, "fullinit")?;
                client.send_v2(&[("cmd", "job-getid")])?;
                let reply = client.read_v2_reply("job-getid-response")?;
                check_rc(&reply, "job-getid")?;
                field(&reply, "jobid", "job-getid")?
            }
        };
        Ok(client)
    }

    /// The job's name as the launcher knows it: a job id unique among its jobs.
    pub fn job(&self) -> &str {
        &self.job
    }

    /// Publishes `key = value` in the job's key/value space (visible after [`fence`]).
    ///
    /// [`fence`]: PmiClient::fence
    pub fn put(&mut self, key: &str, value: &str) -> Result<()> {
        check_word("key", key)?;
        check_word("value", value)?;
        match self.version {
            PmiVersion::V1 => {
                let line = format!("cmd=put kvsname={} key={key} value={value}\n", self.job);
                self.send_line(&line)?;
                check_rc(&self.read_line_reply("put_result")?, "put")
            }
            PmiVersion::V2 => {
                self.send_v2(&[("cmd", "kvs-put"), ("key", key), ("value", value)])?;
                check_rc(&self.read_v2_reply("kvs-put-response")?, "kvs-put")
            }
        }
    }

    /// Waits until every rank of the job has reached the fence; puts made before it are
    /// then visible to all.
    pub fn fence(&mut self) -> Result<()> {
        match self.version {
            PmiVersion::V1 => {
                self.send_line("cmd=barrier_in\n")?;
                self.read_line_reply("barrier_out").map(drop)
            }
            PmiVersion::V2 => {
                self.send_v2(&[("cmd", "kvs-fence")])?;
                check_rc(&self.read_v2_reply("kvs-fence-response")?, "kvs-fence")
            }
        }
    }

    /// Reads `key`, published by rank `from`; an error if nobody published it.
    pub fn get(&mut self, from: usize, key: &str) -> Result<String> {
        check_word("key", key)?;
        match self.version {
            PmiVersion::V1 => {
                let line = format!("cmd=get kvsname={} key={key}\n", self.job);
                self.send_line(&line)?;
                let reply = self.read_line_reply("get_result")?;
                check_rc(&reply, &format!("get {key}"))?;
                field(&reply, "value", "get")
            }
            PmiVersion::V2 => {
                let job = self.job.clone();
                let src = from.to_string();
                self.send_v2(&[
                    ("cmd", "kvs-get"),
                    ("jobid", &job),
                    ("srcid", &src),
                    ("key", key),
                ])?;
                let reply = self.read_v2_reply("kvs-get-response")?;
                check_rc(&reply, &format!("kvs-get {key}"))?;
                if reply.get("found").map(String::as_str) != Some("TRUE") {
                    return Err(pmi_error(format!("key {key} was not published")));
                }
                field(&reply, "value", "kvs-get")
            }
        }
    }

    /// Says goodbye. Launchers take a process that closes its PMI connection without
    /// finalizing for a crashed one, so this must come before the connection is dropped.
    pub fn finalize(mut self) -> Result<()> {
        match self.version {
            PmiVersion::V1 => {
                self.send_line("cmd=finalize\n")?;
                self.read_line_reply("finalize_ack").map(drop)
            }
            PmiVersion::V2 => {
                self.send_v2(&[("cmd", "finalize")])?;
                check_rc(&self.read_v2_reply("finalize-response")?, "finalize")
            }
        }
    }

    fn send_line(&mut self, line: &str) -> Result<()> {
        let stream = self.conn.get_mut();
        stream
            .write_all(line.as_bytes())
            .and_then(|()| stream.flush())
            .map_err(|e| Error::io(format!("rank {}: writing to the PMI server", self.rank), e))
    }

    fn read_line_reply(&mut self, expected: &str) -> Result<HashMap<String, String>> {
        let mut line = String::new();
        let n = self.conn.read_line(&mut line).map_err(|e| {
            Error::io(
                format!("rank {}: reading from the PMI server", self.rank),
                e,
            )
        })?;
        if n == 0 {
            return Err(pmi_error("the PMI server closed the connection".into()));
        }
        let reply = parse_v1(&line)?;
        expect_cmd(&reply, expected)?;
        Ok(reply)
    }

    fn send_v2(&mut self, pairs: &[(&str, &str)]) -> Result<()> {
        let body = encode_v2(pairs);
        let framed = format!("{:<6}{body}", body.len());
        if framed.len() != body.len() + 6 {
            return Err(pmi_error(format!(
                "a PMI-2 command of {} bytes is too long",
                body.len()
            )));
        }
        self.send_line(&framed)
    }

    fn read_v2_reply(&mut self, expected: &str) -> Result<HashMap<String, String>> {
        let rank = self.rank;
        let io_err = |e| Error::io(format!("rank {rank}: reading from the PMI server"), e);
        let mut len = [0u8; 6];
        self.conn.read_exact(&mut len).map_err(io_err)?;
        let len = std::str::from_utf8(&len)
            .ok()
            .and_then(|s| s.trim().parse::<usize>().ok())
            .ok_or_else(|| pmi_error(format!("bad PMI-2 length prefix {len:?}")))?;
        let mut body = vec![0u8; len];
        self.conn.read_exact(&mut body).map_err(io_err)?;
        let body =
            String::from_utf8(body).map_err(|_| pmi_error("a PMI-2 reply is not UTF-8".into()))?;
        let reply = parse_v2(&body)?;
        expect_cmd(&reply, expected)?;
        Ok(reply)
    }
}

/// Parses a PMI-1 line: space-separated `key=value` pairs (the value runs to the next
/// space).
pub fn parse_v1(line: &str) -> Result<HashMap<String, String>> {
    line.split_ascii_whitespace()
        .map(|pair| {
            pair.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| {
                    pmi_error(format!(
                        "`{pair}` in the PMI-1 line {line:?} is not key=value"
                    ))
                })
        })
        .collect()
}

/// Parses a PMI-2 command body: `key=value;` pairs, a `;;` inside a value standing for `;`.
pub fn parse_v2(body: &str) -> Result<HashMap<String, String>> {
    let mut out = HashMap::new();
    let mut rest = body;
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=').ok_or_else(|| {
            pmi_error(format!("no `=` after `{rest}` in the PMI-2 reply {body:?}"))
        })?;
        let mut value = String::new();
        let mut chars = after.char_indices().peekable();
        let mut end = after.len();
        while let Some((i, c)) = chars.next() {
            if c == ';' {
                if matches!(chars.peek(), Some((_, ';'))) {
                    chars.next();
                    value.push(';');
                    continue;
                }
                end = i + 1;
                break;
            }
            value.push(c);
        }
        out.insert(key.to_string(), value);
        rest = &after[end.min(after.len())..];
    }
    Ok(out)
}

/// Encodes PMI-2 pairs, doubling any `;` in a value.
pub fn encode_v2(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={};", v.replace(';', ";;")))
        .collect()
}

fn expect_cmd(reply: &HashMap<String, String>, expected: &str) -> Result<()> {
    match reply.get("cmd") {
        Some(cmd) if cmd == expected => Ok(()),
        _ => Err(pmi_error(format!(
            "expected `{expected}` from the PMI server, got {reply:?}"
        ))),
    }
}

/// Succeeds when the reply has no `rc` or `rc=0`; otherwise names the command and the
/// server's message.
fn check_rc(reply: &HashMap<String, String>, what: &str) -> Result<()> {
    match reply.get("rc").map(String::as_str) {
        None | Some("0") => Ok(()),
        Some(rc) => {
            let msg = reply
                .get("msg")
                .or_else(|| reply.get("errmsg"))
                .map(String::as_str)
                .unwrap_or("no message");
            Err(pmi_error(format!("{what} failed with rc={rc}: {msg}")))
        }
    }
}

fn field(reply: &HashMap<String, String>, name: &str, what: &str) -> Result<String> {
    reply
        .get(name)
        .cloned()
        .ok_or_else(|| pmi_error(format!("the answer to {what} has no `{name}`: {reply:?}")))
}

fn check_word(what: &str, s: &str) -> Result<()> {
    if s.is_empty()
        || s.bytes()
            .any(|b| b.is_ascii_whitespace() || b == b'=' || b == b';')
    {
        return Err(pmi_error(format!(
            "the {what} {s:?} cannot be sent over PMI (empty, or has white space, `=` or `;`)"
        )));
    }
    Ok(())
}

fn pmi_error(msg: String) -> Error {
    Error::Config(format!("PMI wire-up: {msg}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// A scripted server: what the client writes is recorded, its reads come from
    /// `replies`.
    struct Script {
        replies: Cursor<Vec<u8>>,
        written: Vec<u8>,
    }

    impl Read for Script {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.replies.read(buf)
        }
    }

    impl Write for Script {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.written.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn script(replies: &str) -> Script {
        Script {
            replies: Cursor::new(replies.as_bytes().to_vec()),
            written: Vec::new(),
        }
    }

    fn v2(body: &str) -> String {
        format!("{:<6}{body}", body.len())
    }

    #[test]
    fn v1_session() {
        let replies = "cmd=response_to_init pmi_version=1 pmi_subversion=1 rc=0\n\
                       cmd=my_kvsname kvsname=kvs_42_0\n\
                       cmd=put_result rc=0 msg=success\n\
                       cmd=barrier_out\n\
                       cmd=get_result rc=0 msg=success value=1234/10.0.0.1\n\
                       cmd=finalize_ack\n";
        let mut c = PmiClient::init(script(replies), PmiVersion::V1, 0, None).unwrap();
        assert_eq!(c.job(), "kvs_42_0");
        c.put("eau2-master", "1234/10.0.0.1").unwrap();
        c.fence().unwrap();
        assert_eq!(c.get(0, "eau2-master").unwrap(), "1234/10.0.0.1");
        let written = String::from_utf8(c.conn.get_ref().written.clone()).unwrap();
        c.finalize().unwrap();
        assert_eq!(
            written,
            "cmd=init pmi_version=1 pmi_subversion=1\n\
             cmd=get_my_kvsname\n\
             cmd=put kvsname=kvs_42_0 key=eau2-master value=1234/10.0.0.1\n\
             cmd=barrier_in\n\
             cmd=get kvsname=kvs_42_0 key=eau2-master\n"
        );
    }

    #[test]
    fn v2_session() {
        let replies = "cmd=response_to_init pmi_version=2 pmi_subversion=0 rc=0\n".to_string()
            + &v2("cmd=fullinit-response;pmi-version=2;rank=1;size=2;rc=0;")
            + &v2("cmd=job-getid-response;jobid=7.0;rc=0;")
            + &v2("cmd=kvs-fence-response;rc=0;")
            + &v2("cmd=kvs-get-response;rc=0;found=TRUE;value=a;;b;")
            + &v2("cmd=finalize-response;rc=0;");
        let mut c = PmiClient::init(script(&replies), PmiVersion::V2, 1, Some("7.0")).unwrap();
        assert_eq!(c.job(), "7.0");
        c.fence().unwrap();
        assert_eq!(c.get(0, "k").unwrap(), "a;b");
        let written = String::from_utf8(c.conn.get_ref().written.clone()).unwrap();
        c.finalize().unwrap();
        let fullinit = "cmd=fullinit;pmijobid=7.0;pmirank=1;threaded=FALSE;";
        assert!(written.starts_with("cmd=init pmi_version=2 pmi_subversion=0\n"));
        assert!(written.contains(&v2(fullinit)), "{written}");
        assert!(written.contains(&v2("cmd=kvs-get;jobid=7.0;srcid=0;key=k;")));
    }

    #[test]
    fn server_errors_are_reported() {
        let replies = "cmd=response_to_init pmi_version=1 pmi_subversion=1 rc=0\n\
                       cmd=my_kvsname kvsname=k rc=0\n\
                       cmd=get_result rc=-1 msg=key_not_found\n";
        let mut c = PmiClient::init(script(replies), PmiVersion::V1, 0, None).unwrap();
        let err = c.get(0, "missing").unwrap_err().to_string();
        assert!(
            err.contains("key_not_found") && err.contains("missing"),
            "{err}"
        );

        let err = PmiClient::init(
            script("cmd=response_to_init pmi_version=1 pmi_subversion=1 rc=0\n"),
            PmiVersion::V2,
            0,
            None,
        )
        .err()
        .unwrap()
        .to_string();
        assert!(err.contains("PMI-2"), "{err}");
        let closed = PmiClient::init(script(""), PmiVersion::V1, 0, None)
            .err()
            .unwrap();
        assert!(closed.to_string().contains("closed"), "{closed}");
    }

    #[test]
    fn bad_input_is_refused() {
        assert!(parse_v1("cmd=x novalue").is_err());
        assert!(parse_v2("cmd").is_err());
        assert_eq!(parse_v2("a=1;b=;").unwrap()["b"], "");
        assert_eq!(encode_v2(&[("v", "x;y")]), "v=x;;y;");
        let replies = "cmd=response_to_init pmi_version=1 pmi_subversion=1\n\
                       cmd=my_kvsname kvsname=k\n";
        let mut c = PmiClient::init(script(replies), PmiVersion::V1, 0, None).unwrap();
        assert!(c.put("a key", "v").is_err());
        assert!(c.put("k", "").is_err());
    }
}
