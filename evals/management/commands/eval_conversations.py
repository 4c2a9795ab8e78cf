import asyncio
import json
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from agents.providers import PROVIDER_NAMES, provider_configured
from evals.report import report_json, report_junit, report_table, totals_of
from evals.runner import conversations_run
from evals.suites import SuiteError, conversations_expand, suite_load
from evals.targets import fresh_database, http_target, in_process_target, provider_use


class Command(BaseCommand):
    help = (
        "Run conversation test suites (YAML) through Fintalk and report pass rate, tool-choice "
        "accuracy, unconfirmed actions, time to first token, tokens and cost. In-process by "
        "default (the configured provider, a fresh copy of the demo bank); --url runs them "
        "against a running server. Exits 1 when any conversation fails."
    )

    def add_arguments(self, parser):
        parser.add_argument("suites", nargs="+", type=Path, help="Suite files (YAML).")
        parser.add_argument(
            "--provider",
            choices=PROVIDER_NAMES,
            help="In-process: answer with this provider instead of LLM_PROVIDER's.",
        )
        parser.add_argument("--url", help="A running Fintalk, e.g. http://127.0.0.1:8000.")
        parser.add_argument(
            "--key", help="With --url: an API key of a trusted channel (see create_api_key)."
        )
        parser.add_argument("--json", type=Path, dest="json_path", help="Write the report as JSON here.")
        parser.add_argument("--junit", type=Path, help="Write JUnit XML here, for CI.")
        parser.add_argument(
            "--no-progress", action="store_true", help="No progress bar (it also hides itself off a terminal)."
        )

    def handle(self, *args, **options):
        try:
            suites = [suite_load(path) for path in options["suites"]]
        except SuiteError as error:
            raise CommandError(str(error)) from None
        conversations = [run for suite in suites for run in conversations_expand(suite)]
        url, key = options["url"], options["key"]
        if url and not key:
            raise CommandError("--url needs --key: an API key of a trusted channel.")
        if url and options["provider"]:
            raise CommandError("--provider chooses the model in-process; a server at --url uses its own.")
        with tqdm(
            total=len(conversations),
            unit="conversation",
            disable=True if options["no_progress"] else None,
            file=self.stderr._out,
        ) as bar:

            def progress(result):
                bar.update(1)
                if not result.passed:
                    bar.write(f"FAIL {result.conversation.suite}: {result.conversation.title}", file=self.stderr._out)

            if url:
                target_name = url
                results = asyncio.run(conversations_run(conversations, http_target(url, key=key), progress=progress))
            else:
                with fresh_database():
                    try:
                        if options["provider"]:
                            provider_use(options["provider"])
                        provider = provider_configured()
                    except ImproperlyConfigured as error:
                        raise CommandError(f"The provider is not configured: {error}") from None
                    target_name = f"in-process, provider {provider.name} ({provider.model})"
                    results = asyncio.run(
                        conversations_run(conversations, in_process_target(), progress=progress)
                    )
        self.stdout.write(report_table(results, target=target_name))
        if options["json_path"]:
            options["json_path"].write_text(json.dumps(report_json(results, target=target_name), indent=2))
        if options["junit"]:
            options["junit"].write_bytes(report_junit(results))
        totals = totals_of(results)
        if totals.passed != totals.conversations or totals.unconfirmed_actions:
            raise CommandError(
                f"{totals.conversations - totals.passed} of {totals.conversations} conversations failed."
            )
