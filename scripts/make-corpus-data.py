#!/usr/bin/python3
"""Makes the audio of the model corpus's calibration and evaluation sets (fetch-corpus.sh).

usage: make-corpus-data.py OUT_DIR

For each split (calib, eval), sentences spoken by espeak-ng (several voices, speeds and
pitches; the wake phrases of the openWakeWord models among them), each with silence,
background noise and a random level around it, at 16 kHz:
  OUT_DIR/SPLIT/audio/NNNN.npy      float32 [n] in [-1, 1]: one utterance
  OUT_DIR/SPLIT/vad/input/NNNN.npy  float32 [1,576]: what Silero VAD (v5 on) reads per
                                    32 ms step: 512 new samples after the last 64 of the
                                    step before (zeros before the start), every third step
                                    of every utterance, and vad/chunks.json:
                                    [{"utterance", "chunk"}] for each
  OUT_DIR/SPLIT/mel/input/NNNN.npy  float32 [1,1760] on the int16 scale: the 110 ms window
                                    openWakeWord's melspectrogram model reads per 80 ms step
scripts/corpus-features.js then runs the openWakeWord front end and Silero VAD in ONNX
Runtime on these to make the inputs of the later models (embeddings, VAD states).
Calibration and evaluation use different seeds, voices and sentences. OUT_DIR/.stamp holds
a hash of this script: a second run with the same script does nothing. Needs espeak-ng and
Debian's python3-numpy.
"""
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import wave

import numpy as np

RATE = 16000
VAD_CHUNK = 512
VAD_CONTEXT = 64
VAD_EVERY = 3
MEL_WINDOW = 1760  # openWakeWord: 1280 new samples and 3 hops of 160 before them
MEL_STEP = 1280

SENTENCES = {
    "calib": [
        "The quick brown fox jumps over the lazy dog.",
        "Alexa, what time is it in London?",
        "Please turn off the lights in the kitchen before you leave.",
        "Hey Jarvis, open the garage door.",
        "Seven hundred and twenty three people came to the meeting on Tuesday.",
        "Hey Mycroft, play some music.",
        "Can you tell me the way to the railway station?",
        "Hey Rhasspy, turn up the volume.",
        "Set a five minute timer.",
        "What is the weather like today?",
        "Hello Deepa, how are you?",
        "Namaste Deepa.",
        "She sells sea shells by the sea shore.",
        "Our train leaves at half past nine from platform four.",
    ],
    "eval": [
        "A large black dog was sleeping under the old wooden table.",
        "Alexa, add eggs to my shopping list.",
        "Remember to buy milk and bread on the way home.",
        "Hey Jarvis, what is on my calendar?",
        "The concert starts at eight o'clock in the main hall.",
        "Hey Mycroft, tell me a joke.",
        "Heavy snow closed the mountain road for three days.",
        "Hey Rhasspy, switch off the heater.",
        "Set a timer for ten minutes.",
        "Tell me the weather for tomorrow.",
        "Hello Deepa.",
        "Namaste Deepa, good morning.",
        "Turn left at the next corner and park behind the blue van.",
        "Thirty two students passed the final examination this year.",
    ],
}
# The wake phrases once more, alone, in two more voices each: espeak-ng's voices are far from
# the synthetic voices the openWakeWord heads were trained on, and most phrases do not fire.
WAKE_PHRASES = ["Alexa.", "Hey Jarvis.", "Hey Mycroft.", "Hey Rhasspy.", "Set a one minute timer.",
                "What's the weather?", "Hello Deepa.", "Namaste Deepa."]
VOICES = ["en", "en-us", "en-gb-scotland", "en+f3", "en-us+m3", "en+f5", "en-gb-x-rp", "en+m7"]
SEEDS = {"calib": 1234, "eval": 98765}


def speak(text, voice, speed, pitch):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "s.wav")
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", path, text],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with wave.open(path) as w:
            rate = w.getframerate()
            pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64) / 32768.0
    # Resample to 16 kHz (linear interpolation: espeak-ng's output has little above 8 kHz).
    n_out = int(len(pcm) * RATE / rate)
    return np.interp(np.arange(n_out) * rate / RATE, np.arange(len(pcm)), pcm)


def utterances(split, rng):
    """One utterance per sentence: silence and noise, speech at a random level, a tail."""
    out = []
    texts = SENTENCES[split] + [p for p in WAKE_PHRASES for _ in range(2)]
    for i, text in enumerate(texts):
        voice = VOICES[(i + (4 if split == "eval" else 0)) % len(VOICES)]
        speech = speak(text, voice, int(rng.integers(130, 190)), int(rng.integers(30, 70)))
        speech *= 10 ** (rng.uniform(-18, -3) / 20) / max(np.abs(speech).max(), 1e-6)
        noise_level = 10 ** (rng.uniform(-60, -35) / 20)
        lead = int(rng.uniform(0.3, 0.8) * RATE)
        tail = int(rng.uniform(0.3, 0.6) * RATE)
        audio = np.concatenate([np.zeros(lead), speech, np.zeros(tail)])
        audio += noise_level * rng.standard_normal(len(audio))
        out.append(np.clip(audio, -1.0, 1.0).astype(np.float32))
    return out


def write_split(root, split):
    rng = np.random.default_rng(SEEDS[split])
    dirs = {name: os.path.join(root, split, *name.split("/")) for name in ("audio", "vad/input", "mel/input")}
    for d in dirs.values():
        os.makedirs(d)
    chunks, vad_index, mel_index = [], 0, 0
    for u, audio in enumerate(utterances(split, rng)):
        np.save(os.path.join(dirs["audio"], f"{u:04d}.npy"), audio)
        for c in range(0, len(audio) // VAD_CHUNK, VAD_EVERY):
            start = c * VAD_CHUNK - VAD_CONTEXT
            chunk = np.concatenate([np.zeros(max(0, -start), np.float32), audio[max(0, start):(c + 1) * VAD_CHUNK]])
            np.save(os.path.join(dirs["vad/input"], f"{vad_index:04d}.npy"), chunk[None])
            chunks.append({"utterance": u, "chunk": c})
            vad_index += 1
        for start in range(0, len(audio) - MEL_WINDOW + 1, MEL_STEP):
            window = np.round(audio[start:start + MEL_WINDOW] * 32767.0).astype(np.float32)
            np.save(os.path.join(dirs["mel/input"], f"{mel_index:04d}.npy"), window[None])
            mel_index += 1
    with open(os.path.join(root, split, "vad", "chunks.json"), "w") as f:
        json.dump(chunks, f)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    with open(__file__, "rb") as f:
        stamp = hashlib.sha256(f.read()).hexdigest()
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stamp_file = os.path.join(out, ".stamp")
        if os.path.exists(stamp_file) and open(stamp_file).read().strip() == stamp:
            return
        for split in ("calib", "eval"):
            shutil.rmtree(os.path.join(out, split), ignore_errors=True)
            write_split(out, split)
        with open(stamp_file, "w") as f:
            f.write(stamp + "\n")


if __name__ == "__main__":
    main()
