"""Write a generated demo `.claude` and `.codex` folder (for trying local logs offline)."""

from pathlib import Path

from django.core.management.base import BaseCommand
from django.utils import timezone

from connectors.local_logs.demo import demo_files


class Command(BaseCommand):
    help = "Write demo Claude Code and Codex transcripts (with the tricky cases) to a folder."

    def add_arguments(self, parser):
        parser.add_argument("folder", nargs="?", default="var/demo-logs")

    def handle(self, *args, folder, **options):
        root = Path(folder)
        files = demo_files(today=timezone.now().date())
        for relative, text in files.items():
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        self.stdout.write(
            f"Wrote {len(files)} demo transcripts to {root}/.claude and {root}/.codex: pick one "
            "on Sources → Connect a source → Claude Code and Codex on this computer."
        )
