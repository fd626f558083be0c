//! Watching the screen for a colour, cheaply: XGetImage on the root window of the display
//! scripts/bench.sh starts (Xvfb), through libX11 loaded at run time (`x11-dl`, already in the
//! dependency graph through tao). One poll is one X round trip for a one-pixel-high strip, so
//! polling every millisecond costs the X server and the measured app next to nothing (a full
//! `xwd` dump per poll would be a 4.6 MB copy and a fork/exec).

use std::os::raw::c_int;
use std::ptr;

use x11_dl::xlib::{Display, Xlib, ZPixmap};

/// A colour as `0xRRGGBB`.
pub type Rgb = u32;

pub struct Screen {
    xlib: Xlib,
    display: *mut Display,
    root: u64,
    pub width: u32,
    pub height: u32,
}

/// Where a screen's marker colour was found: a horizontal run on one row.
#[derive(Debug, Clone, Copy)]
pub struct Probe {
    pub x: i32,
    pub y: i32,
    pub width: u32,
    pub colour: Rgb,
}

impl Screen {
    pub fn open() -> Screen {
        let xlib = Xlib::open().expect("libX11 (the x11 runtime library) loads");
        // SAFETY: a null name opens $DISPLAY; the pointer is checked and owned by `Screen`.
        let display = unsafe { (xlib.XOpenDisplay)(ptr::null()) };
        assert!(!display.is_null(), "cannot open $DISPLAY");
        // SAFETY: `display` is a live connection.
        let (root, width, height) = unsafe {
            let screen = (xlib.XDefaultScreen)(display);
            (
                (xlib.XRootWindow)(display, screen),
                (xlib.XDisplayWidth)(display, screen) as u32,
                (xlib.XDisplayHeight)(display, screen) as u32,
            )
        };
        Screen {
            xlib,
            display,
            root,
            width,
            height,
        }
    }

    /// The root window's pixels in a rectangle, row by row, as `0xRRGGBB`.
    pub fn grab(&self, x: i32, y: i32, width: u32, height: u32) -> Vec<Rgb> {
        // SAFETY: the image is read within its own width, height and bytes_per_line, and
        // destroyed once.
        unsafe {
            let image = (self.xlib.XGetImage)(
                self.display,
                self.root,
                x as c_int,
                y as c_int,
                width,
                height,
                !0,
                ZPixmap,
            );
            assert!(!image.is_null(), "XGetImage failed");
            let img = &*image;
            assert_eq!(
                img.bits_per_pixel, 32,
                "a 24-bit TrueColor display (Xvfb x24)"
            );
            let mut pixels = Vec::with_capacity((width * height) as usize);
            for row in 0..img.height as isize {
                let line = img.data.offset(row * img.bytes_per_line as isize) as *const u8;
                for col in 0..img.width as isize {
                    let p = line.offset(col * 4);
                    // ZPixmap, 32 bits per pixel, little-endian BGRX.
                    pixels
                        .push((*p.offset(2) as u32) << 16 | (*p.offset(1) as u32) << 8 | *p as u32);
                }
            }
            match img.funcs.destroy_image {
                Some(destroy) => {
                    destroy(image);
                }
                None => {
                    (self.xlib.XDestroyImage)(image);
                }
            }
            pixels
        }
    }

    /// The longest horizontal run of `colour` on the whole screen (the marker: the primary
    /// button, or the bare page's background), or None.
    pub fn find(&self, colour: Rgb) -> Option<Probe> {
        let pixels = self.grab(0, 0, self.width, self.height);
        let mut best: Option<Probe> = None;
        for y in 0..self.height {
            let row = &pixels[(y * self.width) as usize..((y + 1) * self.width) as usize];
            let mut x = 0;
            while x < self.width as usize {
                if row[x] != colour {
                    x += 1;
                    continue;
                }
                let start = x;
                while x < row.len() && row[x] == colour {
                    x += 1;
                }
                let run = (x - start) as u32;
                if best.is_none_or(|b| run > b.width) {
                    best = Some(Probe {
                        x: start as i32,
                        y: y as i32,
                        width: run,
                        colour,
                    });
                }
            }
        }
        best
    }

    /// Whether the whole probe strip shows its colour right now (one X round trip).
    pub fn shows(&self, probe: &Probe) -> bool {
        self.grab(probe.x, probe.y, probe.width, 1)
            .iter()
            .all(|p| *p == probe.colour)
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        // SAFETY: opened in `open`, closed once.
        unsafe {
            (self.xlib.XCloseDisplay)(self.display);
        }
    }
}
