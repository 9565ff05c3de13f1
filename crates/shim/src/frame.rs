//! Stream frames, laid out exactly like Docker's multiplexed attach stream:
//! `[kind u8, 0, 0, 0, len u32 big-endian] payload`. Kinds beyond stderr
//! carry control messages between daemon and shim.

use std::io::{self, Read, Write};

pub const STDIN: u8 = 0;
pub const STDOUT: u8 = 1;
pub const STDERR: u8 = 2;
/// Payload: the exit code as i32 big-endian. Last frame on a stream.
pub const EXIT: u8 = 3;
/// Client to shim: close the process's stdin. No payload.
pub const CLOSE_STDIN: u8 = 4;
/// Client to shim: terminal size, height then width as u16 big-endian.
pub const RESIZE: u8 = 5;

/// The 8-byte header for a frame of `kind` with `len` bytes of payload.
pub fn header(kind: u8, len: usize) -> [u8; 8] {
    let l = (len as u32).to_be_bytes();
    [kind, 0, 0, 0, l[0], l[1], l[2], l[3]]
}

/// Writes one frame.
pub fn write(w: &mut impl Write, kind: u8, payload: &[u8]) -> io::Result<()> {
    let mut buf = Vec::with_capacity(8 + payload.len());
    buf.extend_from_slice(&header(kind, payload.len()));
    buf.extend_from_slice(payload);
    w.write_all(&buf)
}

/// Reads one frame; `None` at a clean end of stream.
pub fn read(r: &mut impl Read) -> io::Result<Option<(u8, Vec<u8>)>> {
    let mut h = [0u8; 8];
    match r.read_exact(&mut h) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_be_bytes([h[4], h[5], h[6], h[7]]) as usize;
    if len > 16 << 20 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "frame too large",
        ));
    }
    let mut payload = vec![0u8; len];
    r.read_exact(&mut payload)?;
    Ok(Some((h[0], payload)))
}

/// Parses an EXIT payload.
pub fn exit_code(payload: &[u8]) -> Option<i32> {
    Some(i32::from_be_bytes(payload.get(..4)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut buf = Vec::new();
        write(&mut buf, STDOUT, b"hello").unwrap();
        write(&mut buf, EXIT, &3i32.to_be_bytes()).unwrap();
        assert_eq!(&buf[..8], &[1, 0, 0, 0, 0, 0, 0, 5]);
        let mut r = &buf[..];
        assert_eq!(read(&mut r).unwrap(), Some((STDOUT, b"hello".to_vec())));
        let (k, p) = read(&mut r).unwrap().unwrap();
        assert_eq!((k, exit_code(&p)), (EXIT, Some(3)));
        assert_eq!(read(&mut r).unwrap(), None);
    }
}
