//! `serve --http DIR`: a minimal HTTP/1.1 static file server (RFC 9110/9112): GET and
//! HEAD, Content-Length, persistent connections (keep-alive) and pipelining, 404 for
//! what is not there, 400/405/414/431/501/505 for what it does not do.
//!
//! Paths are percent-decoded and resolved under DIR; `..` and symbolic links that lead
//! outside it are refused (404). A directory is served as its `index.html`. Files are
//! streamed, never read whole.

use std::io;
use std::path::{Path, PathBuf};
use synack_io::tokio_net::TcpStream;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A request head larger than this is refused (431).
const MAX_HEAD: usize = 16 * 1024;
/// A request target longer than this is refused (414).
const MAX_TARGET: usize = 8 * 1024;
const FILE_CHUNK: usize = 256 * 1024;

/// One parsed request head.
#[derive(Debug, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub target: String,
    /// Minor version: 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor: u8,
    pub headers: Vec<(String, String)>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the `Connection` header lists `token`.
    fn connection_has(&self, token: &str) -> bool {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("connection"))
            .flat_map(|(_, v)| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }

    /// RFC 9112 §9.3: HTTP/1.1 persists unless "close"; HTTP/1.0 only with "keep-alive".
    pub fn keep_alive(&self) -> bool {
        if self.minor >= 1 {
            !self.connection_has("close")
        } else {
            self.connection_has("keep-alive")
        }
    }
}

/// Why a request head was refused, as a status.
#[derive(Debug, PartialEq, Eq)]
pub struct Refusal(pub u16);

/// Parse a request head (without the final empty line's CRLF pair being required).
pub fn parse_head(head: &[u8]) -> Result<Request, Refusal> {
    let text = std::str::from_utf8(head).map_err(|_| Refusal(400))?;
    let mut lines = text.split("\r\n");
    let line = lines.next().ok_or(Refusal(400))?;
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Refusal(400));
    };
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(Refusal(400));
    }
    if target.len() > MAX_TARGET {
        return Err(Refusal(414));
    }
    let minor = match version {
        "HTTP/1.1" => 1,
        "HTTP/1.0" => 0,
        v if v.starts_with("HTTP/") => return Err(Refusal(505)),
        _ => return Err(Refusal(400)),
    };
    let mut headers = Vec::new();
    for l in lines {
        if l.is_empty() {
            continue;
        }
        let (name, value) = l.split_once(':').ok_or(Refusal(400))?;
        // RFC 9112 §5.1: no whitespace between the field name and the colon.
        if name.is_empty() || name.ends_with([' ', '\t']) || name.contains(' ') {
            return Err(Refusal(400));
        }
        headers.push((name.to_string(), value.trim().to_string()));
    }
    Ok(Request {
        method: method.to_string(),
        target: target.to_string(),
        minor,
        headers,
    })
}

/// The file a target names under `root` (canonical), or `None` (404).
pub fn resolve(root: &Path, target: &str) -> Option<PathBuf> {
    // Origin form "/path?query"; absolute form "http://host/path".
    let path = if let Some(rest) = target
        .strip_prefix("http://")
        .or_else(|| target.strip_prefix("https://"))
    {
        rest.find('/').map_or("/", |i| &rest[i..])
    } else {
        target
    };
    if !path.starts_with('/') {
        return None;
    }
    let path = path.split(['?', '#']).next().unwrap_or("/");
    let decoded = percent_decode(path)?;
    let mut file = root.to_path_buf();
    for part in decoded.split('/') {
        match part {
            "" | "." => {}
            ".." => return None,
            p if p.contains('\0') || p.contains('\\') => return None,
            p => file.push(p),
        }
    }
    let mut file = std::fs::canonicalize(file).ok()?;
    if !file.starts_with(root) {
        return None; // a symbolic link leading out
    }
    if file.is_dir() {
        file = std::fs::canonicalize(file.join("index.html")).ok()?;
        if !file.starts_with(root) {
            return None;
        }
    }
    file.is_file().then_some(file)
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn content_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("txt" | "md") => "text/plain; charset=utf-8",
        Some("css") => "text/css",
        Some("js") => "text/javascript",
        Some("json") => "application/json",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("svg") => "image/svg+xml",
        Some("pdf") => "application/pdf",
        Some("wasm") => "application/wasm",
        _ => "application/octet-stream",
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        414 => "URI Too Long",
        431 => "Request Header Fields Too Large",
        501 => "Not Implemented",
        505 => "HTTP Version Not Supported",
        _ => "Error",
    }
}

fn head_for(status: u16, length: u64, ctype: &str, keep_alive: bool, extra: &str) -> String {
    format!(
        "HTTP/1.1 {status} {}\r\nServer: synack\r\nContent-Length: {length}\r\nContent-Type: {ctype}\r\nConnection: {}\r\n{extra}\r\n",
        reason(status),
        if keep_alive { "keep-alive" } else { "close" },
    )
}

/// Counts for the connection's closing line.
#[derive(Default)]
struct Counts {
    requests: u64,
    ok: u64,
    not_found: u64,
    other: u64,
    bytes: u64,
}

/// Serve requests on one connection until the client closes or asks to.
pub async fn serve(s: &mut TcpStream, root: &Path) -> io::Result<String> {
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let mut chunk = vec![0u8; 16 * 1024];
    let mut c = Counts::default();
    loop {
        // One request head, ending in an empty line.
        let head_len = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break Some(i + 4);
            }
            if buf.len() > MAX_HEAD {
                break None;
            }
            let n = s.read(&mut chunk).await?;
            if n == 0 {
                // The client closed (between requests, or in the middle of one).
                s.shutdown().await?;
                return Ok(c.report());
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let Some(head_len) = head_len else {
            refuse(s, 431, &mut c).await?;
            return Ok(c.report());
        };
        c.requests += 1;
        let req = match parse_head(&buf[..head_len - 2]) {
            Ok(r) => r,
            Err(Refusal(status)) => {
                refuse(s, status, &mut c).await?;
                return Ok(c.report());
            }
        };
        // A body (unusual on GET) is read and dropped; chunked bodies are not supported.
        if req.header("transfer-encoding").is_some() {
            refuse(s, 501, &mut c).await?;
            return Ok(c.report());
        }
        let body: usize = match req.header("content-length").map(str::parse::<usize>) {
            None => 0,
            Some(Ok(n)) => n,
            Some(Err(_)) => {
                refuse(s, 400, &mut c).await?;
                return Ok(c.report());
            }
        };
        buf.drain(..head_len);
        let mut skip = body;
        while skip > 0 {
            if buf.is_empty() {
                let n = s.read(&mut chunk).await?;
                if n == 0 {
                    s.shutdown().await?;
                    return Ok(c.report());
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let k = skip.min(buf.len());
            buf.drain(..k);
            skip -= k;
        }
        let keep = req.keep_alive();
        respond(s, &req, root, keep, &mut c).await?;
        if !keep {
            s.shutdown().await?;
            // Let the client close: read (and drop) until it does.
            while s.read(&mut chunk).await? > 0 {}
            return Ok(c.report());
        }
    }
}

async fn refuse(s: &mut TcpStream, status: u16, c: &mut Counts) -> io::Result<()> {
    let body = format!("{status} {}\n", reason(status));
    let head = head_for(
        status,
        body.len() as u64,
        "text/plain; charset=utf-8",
        false,
        "",
    );
    s.write_all(head.as_bytes()).await?;
    s.write_all(body.as_bytes()).await?;
    c.other += 1;
    c.bytes += (head.len() + body.len()) as u64;
    s.shutdown().await
}

async fn respond(
    s: &mut TcpStream,
    req: &Request,
    root: &Path,
    keep: bool,
    c: &mut Counts,
) -> io::Result<()> {
    let head_only = req.method == "HEAD";
    if req.method != "GET" && !head_only {
        let body = "405 Method Not Allowed\n";
        let head = head_for(
            405,
            body.len() as u64,
            "text/plain; charset=utf-8",
            keep,
            "Allow: GET, HEAD\r\n",
        );
        s.write_all(head.as_bytes()).await?;
        s.write_all(body.as_bytes()).await?;
        c.other += 1;
        c.bytes += (head.len() + body.len()) as u64;
        return Ok(());
    }
    let file = match resolve(root, &req.target) {
        Some(f) => tokio::fs::File::open(&f).await.ok().map(|h| (f, h)),
        None => None,
    };
    let Some((path, mut file)) = file else {
        let body = "404 Not Found\n";
        let head = head_for(
            404,
            body.len() as u64,
            "text/plain; charset=utf-8",
            keep,
            "",
        );
        s.write_all(head.as_bytes()).await?;
        if !head_only {
            s.write_all(body.as_bytes()).await?;
        }
        c.not_found += 1;
        c.bytes += head.len() as u64;
        return Ok(());
    };
    let len = file.metadata().await?.len();
    let head = head_for(200, len, content_type(&path), keep, "");
    s.write_all(head.as_bytes()).await?;
    c.ok += 1;
    c.bytes += head.len() as u64;
    if head_only {
        return Ok(());
    }
    let mut buf = vec![0u8; FILE_CHUNK];
    let mut left = len;
    while left > 0 {
        let want = usize::try_from(left).unwrap_or(FILE_CHUNK).min(FILE_CHUNK);
        let n = file.read(&mut buf[..want]).await?;
        if n == 0 {
            // The file shrank under us: the promised length cannot be kept.
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("{} shrank while being sent", path.display()),
            ));
        }
        s.write_all(&buf[..n]).await?;
        left -= n as u64;
        c.bytes += n as u64;
    }
    Ok(())
}

impl Counts {
    fn report(&self) -> String {
        format!(
            "{} request(s): {} ok, {} not found, {} refused; sent {} bytes",
            self.requests, self.ok, self.not_found, self.other, self.bytes
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_heads_parse() {
        let r = parse_head(
            b"GET /a%20b?x=1 HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Upgrade\r\n",
        )
        .unwrap();
        assert_eq!(r.method, "GET");
        assert_eq!(r.target, "/a%20b?x=1");
        assert_eq!(r.minor, 1);
        assert_eq!(r.header("host"), Some("x"));
        assert!(r.keep_alive());
        let close = parse_head(b"GET / HTTP/1.1\r\nConnection: close\r\n").unwrap();
        assert!(!close.keep_alive());
        let old = parse_head(b"GET / HTTP/1.0\r\n").unwrap();
        assert!(!old.keep_alive());
        let old_keep = parse_head(b"GET / HTTP/1.0\r\nconnection: Keep-Alive\r\n").unwrap();
        assert!(old_keep.keep_alive());
        assert_eq!(parse_head(b"GET / HTTP/2.0\r\n"), Err(Refusal(505)));
        assert_eq!(parse_head(b"GET /\r\n"), Err(Refusal(400)));
        assert_eq!(
            parse_head(b"GET / HTTP/1.1\r\nHost : x\r\n"),
            Err(Refusal(400))
        );
        assert_eq!(
            parse_head(b"GET / HTTP/1.1\r\nnocolon\r\n"),
            Err(Refusal(400))
        );
        assert_eq!(parse_head(b"G3T / HTTP/1.1\r\n"), Err(Refusal(400)));
    }

    #[test]
    fn targets_resolve_inside_the_root_only() {
        let dir = std::env::temp_dir().join(format!("synack-http-{}", std::process::id()));
        let site = dir.join("site");
        std::fs::create_dir_all(site.join("sub")).unwrap();
        std::fs::write(site.join("a b.txt"), "x").unwrap();
        std::fs::write(site.join("sub/index.html"), "i").unwrap();
        std::fs::write(dir.join("secret"), "s").unwrap();
        std::os::unix::fs::symlink(dir.join("secret"), site.join("link")).unwrap();
        let root = std::fs::canonicalize(&site).unwrap();
        assert_eq!(resolve(&root, "/a%20b.txt"), Some(root.join("a b.txt")));
        assert_eq!(resolve(&root, "/a%20b.txt?q#f"), Some(root.join("a b.txt")));
        assert_eq!(
            resolve(&root, "http://host/a%20b.txt"),
            Some(root.join("a b.txt"))
        );
        assert_eq!(resolve(&root, "/sub/"), Some(root.join("sub/index.html")));
        assert_eq!(
            resolve(&root, "/sub/./index.html"),
            Some(root.join("sub/index.html"))
        );
        assert_eq!(resolve(&root, "/../secret"), None);
        assert_eq!(resolve(&root, "/sub/../../secret"), None);
        assert_eq!(resolve(&root, "/%2e%2e/secret"), None);
        assert_eq!(resolve(&root, "/link"), None);
        assert_eq!(resolve(&root, "/missing"), None);
        assert_eq!(resolve(&root, "/"), None); // no index.html at the top
        assert_eq!(resolve(&root, "*"), None);
        assert_eq!(resolve(&root, "/%zz"), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn responses_carry_length_and_connection() {
        let h = head_for(200, 5, "text/plain", true, "");
        assert!(h.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(h.contains("Content-Length: 5\r\n"));
        assert!(h.contains("Connection: keep-alive\r\n"));
        assert!(h.ends_with("\r\n\r\n"));
        assert_eq!(
            content_type(Path::new("x.HTML")),
            "text/html; charset=utf-8"
        );
        assert_eq!(content_type(Path::new("x.bin")), "application/octet-stream");
    }
}
