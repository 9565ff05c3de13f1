//! Docker's multiplexed stream framing.
//!
//! When a container has no TTY, `attach`, `logs` and `exec` output is sent as
//! frames: an 8-byte header `[stream, 0, 0, 0, len (u32 big-endian)]` followed
//! by `len` bytes of payload. Stream 0 is stdin, 1 stdout, 2 stderr and 3 a
//! "system error" the daemon reports in-band.

use bytes::{Buf, Bytes, BytesMut};
use std::io;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Which stream a frame belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamType {
    /// 0: stdin (written by the server only in unusual cases).
    Stdin,
    /// 1: stdout.
    Stdout,
    /// 2: stderr.
    Stderr,
    /// 3: daemon-side error message (payload is the error text).
    SystemErr,
}

impl StreamType {
    /// Decode the header byte.
    pub fn from_u8(b: u8) -> Option<StreamType> {
        match b {
            0 => Some(StreamType::Stdin),
            1 => Some(StreamType::Stdout),
            2 => Some(StreamType::Stderr),
            3 => Some(StreamType::SystemErr),
            _ => None,
        }
    }

    /// Header byte.
    pub fn as_u8(self) -> u8 {
        match self {
            StreamType::Stdin => 0,
            StreamType::Stdout => 1,
            StreamType::Stderr => 2,
            StreamType::SystemErr => 3,
        }
    }
}

/// One decoded frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Stream the payload belongs to.
    pub stream: StreamType,
    /// Payload bytes.
    pub data: Bytes,
}

/// Length of the frame header.
pub const FRAME_HEADER_LEN: usize = 8;

/// Encode one frame (header + payload).
pub fn encode_frame(stream: StreamType, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(FRAME_HEADER_LEN + data.len());
    out.push(stream.as_u8());
    out.extend_from_slice(&[0, 0, 0]);
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(data);
    out
}

/// Incremental, I/O-free frame decoder: push bytes in, pull frames out.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    buf: BytesMut,
}

impl FrameDecoder {
    /// New empty decoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Append received bytes.
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// Number of buffered, not yet decoded bytes.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Decode the next complete frame, if any. Errors on an unknown stream byte.
    pub fn next_frame(&mut self) -> io::Result<Option<Frame>> {
        if self.buf.len() < FRAME_HEADER_LEN {
            return Ok(None);
        }
        let stream = StreamType::from_u8(self.buf[0]).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("unrecognized stream type in frame header: {}", self.buf[0]),
            )
        })?;
        let len = u32::from_be_bytes([self.buf[4], self.buf[5], self.buf[6], self.buf[7]]) as usize;
        if self.buf.len() < FRAME_HEADER_LEN + len {
            return Ok(None);
        }
        self.buf.advance(FRAME_HEADER_LEN);
        let data = self.buf.split_to(len).freeze();
        Ok(Some(Frame { stream, data }))
    }
}

/// Read one frame from `r`. Returns `Ok(None)` on a clean EOF at a frame
/// boundary and an `UnexpectedEof` error on a truncated frame.
pub async fn read_frame<R: AsyncRead + Unpin>(r: &mut R) -> io::Result<Option<Frame>> {
    let mut header = [0u8; FRAME_HEADER_LEN];
    let mut got = 0;
    while got < FRAME_HEADER_LEN {
        let n = r.read(&mut header[got..]).await?;
        if n == 0 {
            if got == 0 {
                return Ok(None);
            }
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "truncated frame header",
            ));
        }
        got += n;
    }
    let stream = StreamType::from_u8(header[0]).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("unrecognized stream type in frame header: {}", header[0]),
        )
    })?;
    let len = u32::from_be_bytes([header[4], header[5], header[6], header[7]]) as usize;
    let mut data = vec![0u8; len];
    r.read_exact(&mut data).await?;
    Ok(Some(Frame {
        stream,
        data: Bytes::from(data),
    }))
}

/// Copy a multiplexed stream to `stdout`/`stderr` until EOF, flushing after
/// each frame. A [`StreamType::SystemErr`] frame ends the copy with an error
/// carrying the daemon's message. Stdin frames are ignored.
pub async fn demux_to<R, O, E>(r: &mut R, stdout: &mut O, stderr: &mut E) -> io::Result<()>
where
    R: AsyncRead + Unpin,
    O: AsyncWrite + Unpin,
    E: AsyncWrite + Unpin,
{
    while let Some(frame) = read_frame(r).await? {
        match frame.stream {
            StreamType::Stdout => {
                stdout.write_all(&frame.data).await?;
                stdout.flush().await?;
            }
            StreamType::Stderr => {
                stderr.write_all(&frame.data).await?;
                stderr.flush().await?;
            }
            StreamType::SystemErr => {
                return Err(io::Error::other(
                    String::from_utf8_lossy(&frame.data).trim_end().to_string(),
                ));
            }
            StreamType::Stdin => {}
        }
    }
    Ok(())
}

/// Demultiplex a complete buffer into (stdout, stderr) byte vectors. Trailing
/// partial frames are ignored. Handy for tests.
pub fn demux_all(data: &[u8]) -> io::Result<(Vec<u8>, Vec<u8>)> {
    let mut d = FrameDecoder::new();
    d.push(data);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    while let Some(f) = d.next_frame()? {
        match f.stream {
            StreamType::Stdout => out.extend_from_slice(&f.data),
            StreamType::Stderr | StreamType::SystemErr => err.extend_from_slice(&f.data),
            StreamType::Stdin => {}
        }
    }
    Ok((out, err))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_decode_roundtrip() {
        let mut data = encode_frame(StreamType::Stdout, b"hello\n");
        data.extend(encode_frame(StreamType::Stderr, b"oops\n"));
        data.extend(encode_frame(StreamType::Stdout, b""));
        assert_eq!(&data[..8], &[1, 0, 0, 0, 0, 0, 0, 6]);
        let mut d = FrameDecoder::new();
        // Feed one byte at a time to exercise partial buffering.
        let mut frames = Vec::new();
        for b in &data {
            d.push(&[*b]);
            while let Some(f) = d.next_frame().unwrap() {
                frames.push(f);
            }
        }
        assert_eq!(frames.len(), 3);
        assert_eq!(frames[0].stream, StreamType::Stdout);
        assert_eq!(&frames[0].data[..], b"hello\n");
        assert_eq!(frames[1].stream, StreamType::Stderr);
        assert_eq!(&frames[1].data[..], b"oops\n");
        assert!(frames[2].data.is_empty());
        assert_eq!(d.buffered(), 0);
    }

    #[test]
    fn large_length_header() {
        let payload = vec![b'x'; 70000];
        let data = encode_frame(StreamType::Stderr, &payload);
        assert_eq!(&data[4..8], &70000u32.to_be_bytes());
        let (out, err) = demux_all(&data).unwrap();
        assert!(out.is_empty());
        assert_eq!(err.len(), 70000);
    }

    #[test]
    fn bad_stream_type() {
        let mut d = FrameDecoder::new();
        d.push(&[9, 0, 0, 0, 0, 0, 0, 1, b'a']);
        assert!(d.next_frame().is_err());
    }

    #[tokio::test]
    async fn async_demux() {
        let mut data = encode_frame(StreamType::Stdout, b"out1 ");
        data.extend(encode_frame(StreamType::Stderr, b"err1"));
        data.extend(encode_frame(StreamType::Stdout, b"out2"));
        let mut r = &data[..];
        let (mut out, mut err) = (Vec::new(), Vec::new());
        demux_to(&mut r, &mut out, &mut err).await.unwrap();
        assert_eq!(out, b"out1 out2");
        assert_eq!(err, b"err1");
    }

    #[tokio::test]
    async fn async_truncated_and_syserr() {
        let data = encode_frame(StreamType::Stdout, b"abcdef");
        let mut r = &data[..5];
        assert!(read_frame(&mut r).await.is_err());
        let mut r = &data[..10];
        assert!(read_frame(&mut r).await.is_err());
        let mut empty: &[u8] = &[];
        assert!(read_frame(&mut empty).await.unwrap().is_none());

        let data = encode_frame(StreamType::SystemErr, b"daemon broke\n");
        let mut r = &data[..];
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let e = demux_to(&mut r, &mut out, &mut err).await.unwrap_err();
        assert_eq!(e.to_string(), "daemon broke");
    }
}
