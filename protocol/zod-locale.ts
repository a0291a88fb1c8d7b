import * as z from 'zod/mini';
import { en } from 'zod/locales';

// zod/mini, unlike classic zod, sets no locale: every issue would read "Invalid input". Imported
// (for this effect) by each module that defines zod/mini schemas, so that their messages are the
// English ones of classic zod (400 details, configuration errors), whatever else is loaded.
z.config(en());
