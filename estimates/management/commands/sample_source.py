import uuid

from django.core.management.base import BaseCommand, CommandError

from connectors.models import EstimateSource
from estimates import sampling
from estimates.models import SampleStatus, SampleTrigger


class Command(BaseCommand):
    help = "Sample one estimate source now, in this process, and print a summary."

    def add_arguments(self, parser):
        parser.add_argument("source_id", type=uuid.UUID, help="the source's public id")

    def handle(self, *args, source_id, **options):
        source = EstimateSource.objects.filter(public_id=source_id).first()
        if source is None:
            raise CommandError(f"No estimate source {source_id}.")
        try:
            sample = sampling.sample_request(source=source, trigger=SampleTrigger.MANUAL)
        except (sampling.AlreadySampling, sampling.TooSoon) as e:
            raise CommandError(str(e)) from None
        try:
            sample = sampling.sample_run(sample_id=sample.pk)
        except sampling.RetryLater as e:
            raise CommandError(f"The vendor asked us to wait {e.countdown:.0f} s: {e}") from None
        if sample is None or sample.status != SampleStatus.SUCCEEDED:
            raise CommandError(f"Sample failed: {sample.error if sample else 'not run'}")
        p = sample.projection
        self.stdout.write(
            f"{source.label}: window {p.window_start} – {p.window_end} (exclusive), "
            f"{p.active_days} active days{' (preliminary)' if p.preliminary else ''}\n"
            f"  monthly tokens: {p.monthly_tokens_total:,} {p.monthly_tokens}\n"
            f"  provider spend: ${p.provider_spend_usd:.2f}/month\n"
            f"  footprint: {p.kwh:.3f} kWh, {p.co2e_kg:.3f} kg CO2e, {p.water_l:.2f} L\n"
            f"  price contribution (unrounded): ${p.price_contribution_usd:.4f}"
        )
