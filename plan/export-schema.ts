// Writes the plan's JSON Schema, for editors (yaml-language-server) and other tooling.
import { z } from 'zod';
import { planSchema } from './schema';

const schema = z.toJSONSchema(planSchema, { io: 'input', unrepresentable: 'any' });
process.stdout.write(JSON.stringify({ $id: 'https://multi-region-cd.dev/plan.schema.json', title: 'multi-region-cd plan', ...schema }, null, 2) + '\n');
