"""register search text

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-23 03:20:00

The register search moved from Python (every line of a school read and filtered) to the
database: each entry keeps its case-folded search text (``searchable``), filled here for the
entries that exist, in batches of 5,000 (a region's 3 million lines take minutes, once).
It uses the application's ``searchable`` so that old and new lines are searched alike; a
later change to that function needs its own migration to rewrite the texts.
"""

import sqlalchemy as sa
from alembic import op

from archive_service.migrations import immutability

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade() -> None:
    from archive_service.register.models import searchable

    # The lines are immutable (0006); the triggers step aside for this one rewrite only.
    immutability.drop_immutable('register_entry')
    op.add_column('register_entry', sa.Column('search_text', sa.Text(), nullable=True))
    conn = op.get_bind()
    entry = sa.table('register_entry', sa.column('received_at', sa.DateTime(timezone=True)),
                     *(sa.column(c) for c in (
                         'id', 'number', 'year', 'title', 'class_name', 'period_code',
                         'handed_over_by', 'received_by', 'location', 'document_id',
                         'search_text')))
    doc = sa.table('rendered_document', sa.column('id'), sa.column('number'))
    last = 0
    while True:
        rows = conn.execute(
            sa.select(entry, doc.c.number.label('document_number'))
            .select_from(entry.outerjoin(doc, doc.c.id == entry.c.document_id))
            .where(entry.c.id > last).order_by(entry.c.id).limit(BATCH)).mappings().all()
        if not rows:
            break
        conn.execute(entry.update().where(entry.c.id == sa.bindparam('row_id'))
                     .values(search_text=sa.bindparam('text')), [
            {'row_id': r['id'], 'text': searchable(
                number=r['number'], year=r['year'], received_at=r['received_at'],
                title=r['title'], class_name=r['class_name'], period_code=r['period_code'],
                handed_over_by=r['handed_over_by'], received_by=r['received_by'],
                location=r['location'], document_number=r['document_number'])}
            for r in rows])
        last = rows[-1]['id']
    with op.batch_alter_table('register_entry') as batch:
        batch.alter_column('search_text', existing_type=sa.Text(), nullable=False)
    immutability.make_immutable('register_entry')


def downgrade() -> None:
    immutability.drop_immutable('register_entry')
    with op.batch_alter_table('register_entry') as batch:
        batch.drop_column('search_text')
    immutability.make_immutable('register_entry')
