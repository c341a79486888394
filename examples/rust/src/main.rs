//! Quantizes the PP-OCR text direction classifier to int8 through libquant's C ABI, then
//! classifies text-line pictures as upright (0) or upside down (180) with the float and the
//! int8 (fake-quant) simulators.
//!
//!   classify_direction CLS_MODEL.onnx CALIB_DIR PICTURE...
//!
//! The C ABI reads pictures only as calibration sources, so the pictures to classify are
//! decoded here with Debian's libstb (stb_image) and preprocessed the same way.
use libquant::{
    CalibrationSources, Calibrator, CalibratorOptions, Color, Graph, ImagePreprocess, Input,
    Quantizer, Resize, Simulator, SimulatorOptions,
};
use std::error::Error;
use std::path::Path;

const HEIGHT: usize = 48;
const WIDTH: usize = 192;
const LABELS: [&str; 2] = ["0", "180"];

/// PP-OCR's classifier input: BGR, height 48, width by aspect ratio up to 192, padded on the
/// right, (pixel / 255 - 0.5) / 0.5.
fn cls_preprocess() -> ImagePreprocess {
    ImagePreprocess {
        height: HEIGHT as i64,
        width: WIDTH as i64,
        resize: Resize::FitHeightPad,
        color: Color::Bgr,
        mean: [127.5; 3],
        scale: [1.0 / 127.5; 3],
        ..Default::default()
    }
}

/// Decoding with stb_image, through its C interface.
mod stb {
    use std::ffi::{CStr, CString};
    use std::os::raw::{c_char, c_int, c_uchar, c_void};

    extern "C" {
        fn stbi_load(
            path: *const c_char,
            width: *mut c_int,
            height: *mut c_int,
            channels_in_file: *mut c_int,
            desired_channels: c_int,
        ) -> *mut c_uchar;
        fn stbi_image_free(data: *mut c_void);
        fn stbi_failure_reason() -> *const c_char;
    }

    /// An 8-bit RGB picture, rows top to bottom.
    pub struct Rgb {
        pub width: usize,
        pub height: usize,
        pub pixels: Vec<u8>,
    }

    pub fn load_rgb(path: &str) -> Result<Rgb, String> {
        let c_path = CString::new(path).map_err(|_| format!("bad path {}", path))?;
        let (mut width, mut height, mut channels) = (0, 0, 0);
        // SAFETY: valid C string and out pointers; the pixels are copied, then freed once.
        unsafe {
            let data = stbi_load(c_path.as_ptr(), &mut width, &mut height, &mut channels, 3);
            if data.is_null() {
                let reason = CStr::from_ptr(stbi_failure_reason()).to_string_lossy();
                return Err(format!("cannot read {}: {}", path, reason));
            }
            let (width, height) = (width as usize, height as usize);
            let pixels = std::slice::from_raw_parts(data, width * height * 3).to_vec();
            stbi_image_free(data as *mut c_void);
            Ok(Rgb { width, height, pixels })
        }
    }
}

/// A picture as the classifier's input [1,3,48,192], exactly as libquant's picture sources
/// preprocess it: bilinear resize with half-pixel centers to height 48 (width by aspect ratio,
/// at most 192), BGR, normalized, padded on the right.
fn load_picture(path: &str, pre: &ImagePreprocess) -> Result<Vec<f32>, String> {
    let picture = stb::load_rgb(path)?;
    let (w, h) = (picture.width, picture.height);
    let content_w = ((HEIGHT as f64 * (w as f64 / h as f64)).ceil() as usize).clamp(1, WIDTH);
    let at = |x: usize, y: usize, c: usize| picture.pixels[(y * w + x) * 3 + c] as f32;
    let mut input = vec![pre.pad_value; 3 * HEIGHT * WIDTH];
    let (sy, sx) = (h as f32 / HEIGHT as f32, w as f32 / content_w as f32);
    for y in 0..HEIGHT {
        let fy = ((y as f32 + 0.5) * sy - 0.5).max(0.0);
        let y0 = (fy as usize).min(h - 1);
        let y1 = (y0 + 1).min(h - 1);
        let wy = fy - y0 as f32;
        for x in 0..content_w {
            let fx = ((x as f32 + 0.5) * sx - 0.5).max(0.0);
            let x0 = (fx as usize).min(w - 1);
            let x1 = (x0 + 1).min(w - 1);
            let wx = fx - x0 as f32;
            for c in 0..3 {
                let rgb_c = 2 - c; // the model wants BGR
                let top = at(x0, y0, rgb_c) + (at(x1, y0, rgb_c) - at(x0, y0, rgb_c)) * wx;
                let bottom = at(x0, y1, rgb_c) + (at(x1, y1, rgb_c) - at(x0, y1, rgb_c)) * wx;
                input[(c * HEIGHT + y) * WIDTH + x] =
                    (top + (bottom - top) * wy - pre.mean[c]) * pre.scale[c];
            }
        }
    }
    Ok(input)
}

/// The label and its probability from one run of `simulator`.
fn classify(
    simulator: &Simulator,
    input: &str,
    picture: &[f32],
) -> Result<(usize, f32), Box<dyn Error>> {
    let shape = [1, 3, HEIGHT as i64, WIDTH as i64];
    let outputs = simulator.run(&[Input { name: input, shape: &shape, data: picture }])?;
    let scores = outputs[0].as_f32().ok_or("the classifier's output is not float32")?;
    if scores.len() != 2 {
        return Err(format!("expected 2 scores, got {}", scores.len()).into());
    }
    let label = if scores[1] > scores[0] { 1 } else { 0 };
    Ok((label, scores[label]))
}

fn run(model: &str, calib_dir: &str, pictures: &[String]) -> Result<(), Box<dyn Error>> {
    println!("libquant {} (C ABI {})", libquant::version(), libquant::api_version());
    let pre = cls_preprocess();
    let options = SimulatorOptions { threads: 2, ..Default::default() };

    // The float model: load, optimize, then one simulator and one calibrator on it.
    let mut graph = Graph::load(model)?;
    graph.optimize()?;
    let input = graph.input_names()?.remove(0);
    let float_sim = Simulator::new(&graph, &options)?;
    let calib_options = CalibratorOptions {
        threads: 2,
        keep_samples: 8, // the method "auto" scores its candidates on these
        progress: Some(Box::new(|done, total| {
            if done == total {
                eprintln!("calibration: read {} pictures", total);
            }
        })),
        ..Default::default()
    };
    let mut calibrator = Calibrator::new(&graph, calib_options)?;

    // Calibrate on every picture of the folder, preprocessed by the library.
    let mut sources = CalibrationSources::new()?;
    sources.add_images(&input, calib_dir, &pre)?;
    calibrator.add_sources(&sources)?;
    println!("calibrated on {} pictures of {}", calibrator.sample_count()?, calib_dir);

    // int8 activations and weights, each activation's range chosen by "auto".
    let mut quantizer = Quantizer::new()?;
    quantizer.set_method("auto")?;
    quantizer.set_bits(8, 8)?;
    let quantized = quantizer.quantize(&graph, &calibrator)?;
    let int8_sim = Simulator::fake_quant(&quantized, &options)?;

    for path in pictures {
        let picture = load_picture(path, &pre)?;
        let (f, pf) = classify(&float_sim, &input, &picture)?;
        let (q, pq) = classify(&int8_sim, &input, &picture)?;
        let name =
            Path::new(path).file_name().map_or(path.clone(), |n| n.to_string_lossy().into_owned());
        println!("{}: float {} (p={:.4}) int8 {} (p={:.4})", name, LABELS[f], pf, LABELS[q], pq);
    }
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: {} CLS_MODEL.onnx CALIB_DIR PICTURE...", args[0]);
        std::process::exit(2);
    }
    if let Err(error) = run(&args[1], &args[2], &args[3..]) {
        eprintln!("error: {}", error);
        std::process::exit(1);
    }
}
