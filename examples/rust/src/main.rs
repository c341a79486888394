//! Quantizes the PP-OCR text direction classifier to int8 through libquant's C ABI, compiles it
//! to a fixed-point program (saved as a .lqm file and loaded back, as a deployment would), then
//! classifies text-line pictures as upright (0) or upside down (180) with the float, the int8
//! (fake-quant) and the fixed-point simulators.
//!
//!   classify_direction [-o PROGRAM.lqm] CLS_MODEL.onnx CALIB_DIR PICTURE...
//!
//! The program goes to PROGRAM.lqm (default classify_direction.lqm in the current directory).
use libquant::{
    CalibrationSources, Calibrator, CalibratorOptions, Color, CompileOptions, FixedSimulator,
    Graph, ImagePreprocess, Input, Program, Quantizer, Resize, Simulator, SimulatorOptions, Tensor,
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

/// The label and its probability from the classifier's output.
fn predict(outputs: &[Tensor]) -> Result<(usize, f32), Box<dyn Error>> {
    let scores = outputs[0].as_f32().ok_or("the classifier's output is not float32")?;
    if scores.len() != 2 {
        return Err(format!("expected 2 scores, got {}", scores.len()).into());
    }
    let label = if scores[1] > scores[0] { 1 } else { 0 };
    Ok((label, scores[label]))
}

/// The picture (from `libquant::load_image`) as the input `name`.
fn picture_input<'a>(name: &'a str, picture: &'a Tensor) -> Result<Input<'a>, Box<dyn Error>> {
    let data = picture.as_f32().ok_or("the picture is not float32")?;
    Ok(Input { name, shape: picture.shape(), data })
}

fn run(
    model: &str,
    calib_dir: &str,
    pictures: &[String],
    program_path: &str,
) -> Result<(), Box<dyn Error>> {
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

    // The integer program, as an NPU runs it (the model's batch is dynamic, a program's is
    // not), saved and loaded back, and its bit-exact simulator.
    let compile_options = CompileOptions {
        input_shapes: vec![(input.clone(), vec![1, 3, HEIGHT as i64, WIDTH as i64])],
        ..Default::default()
    };
    let program = quantized.compile(&compile_options)?;
    program.save(program_path)?;
    println!(
        "compiled: {} (weights {:.1} KiB, activations {:.1} KiB)",
        program_path,
        program.weight_bytes()? as f64 / 1024.0,
        program.peak_activation_bytes()? as f64 / 1024.0
    );
    let fixed_sim = FixedSimulator::new(&Program::load(program_path)?, 2)?;

    for path in pictures {
        let picture = libquant::load_image(path, &pre)?;
        let inputs = [picture_input(&input, &picture)?];
        let (f, pf) = predict(&float_sim.run(&inputs)?)?;
        let (q, pq) = predict(&int8_sim.run(&inputs)?)?;
        // The simulator quantizes the float32 picture and dequantizes the int8 scores.
        let (x, px) = predict(&fixed_sim.run(&inputs, true)?)?;
        let name =
            Path::new(path).file_name().map_or(path.clone(), |n| n.to_string_lossy().into_owned());
        println!("{}: float {} (p={:.4}) int8 {} (p={:.4})", name, LABELS[f], pf, LABELS[q], pq);
        println!("{}: fixed {} (p={:.4})", name, LABELS[x], px);
    }
    Ok(())
}

fn main() {
    let mut args: Vec<String> = std::env::args().collect();
    let mut program_path = "classify_direction.lqm".to_string();
    if args.len() > 2 && args[1] == "-o" {
        program_path = args.remove(2);
        args.remove(1);
    }
    if args.len() < 4 {
        eprintln!("usage: {} [-o PROGRAM.lqm] CLS_MODEL.onnx CALIB_DIR PICTURE...", args[0]);
        std::process::exit(2);
    }
    if let Err(error) = run(&args[1], &args[2], &args[3..], &program_path) {
        eprintln!("error: {}", error);
        std::process::exit(1);
    }
}
