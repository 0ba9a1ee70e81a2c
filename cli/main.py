"""Entry point of the ``archive`` console script."""

from __future__ import annotations

import click

from cli import (
    audit,
    backup,
    check,
    closing,
    demo,
    fixity,
    imports,
    inspection,
    register,
    render,
    retention,
    russian,
    setup,
    signatures,
    snapshot,
    web,
)

russian.install()


@click.group(help="Архив электронных классных журналов: срезы, проверки, копии, хранение.")
@click.version_option(package_name="school-journal-archive", message="%(prog)s, версия %(version)s")
def main() -> None:
    """The ``archive`` command group."""


main.add_command(setup.init)
main.add_command(setup.school)
main.add_command(imports.import_command)
main.add_command(imports.attendance_codes)
main.add_command(snapshot.snapshot)
main.add_command(check.check)
main.add_command(demo.demo_data)
main.add_command(demo.demo)
main.add_command(render.render)
main.add_command(render.document)
main.add_command(signatures.pki)
main.add_command(signatures.user)
main.add_command(signatures.sign)
main.add_command(signatures.chain)
main.add_command(signatures.return_)
main.add_command(signatures.verify)
main.add_command(signatures.timestamps)
main.add_command(audit.audit)
main.add_command(backup.backup)
main.add_command(retention.retention)
main.add_command(fixity.fixity)
main.add_command(inspection.search_command)
main.add_command(inspection.report_command)
main.add_command(inspection.export_package_command)
main.add_command(closing.close_period)
main.add_command(closing.close_status)
main.add_command(closing.worker)
main.add_command(closing.jobs)
main.add_command(register.register)
main.add_command(web.account)
main.add_command(web.serve)
russian.localise(main)

if __name__ == "__main__":  # pragma: no cover
    main()
